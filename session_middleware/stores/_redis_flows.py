"""RedisStore's operations, written once as generators of Redis commands.

Each flow yields :mod:`._redis_schema` commands and is sent their replies; the store's
sync and async drivers do the I/O (the shape of ``session_middleware.flow``). A driver
throws a failed command's exception into the flow, so a flow can undo a half-done write
before the error reaches the caller.

Theory of operation
-------------------
A session and its user's index live in different hash slots, so no step spans both;
instead the order of the steps makes every partial failure harmless:

- create writes the session first, then indexes it; if indexing fails the new session
  is deleted again (nobody has its id yet: the cookie is sent only after success).
- delete removes the session first, then its index entry; a failure in between leaves a
  *dangling* member, which the next read of the index notices and prunes.
- reading an index checks every member against its session: missing, expired, corrupt
  or another user's sessions are pruned, never listed. Index scores are absolute
  expiries, which never move, so a touch (one script on the session alone) never needs
  the index.
- ``max_per_user`` is decided by one script on the index (count, evict, add): two
  logins at once cannot both pass the cap. Victims are taken from the index first and
  their sessions deleted after; if that fails they are put back, so a session is never
  alive and unlisted. One window stays open: if that script runs but its reply is lost
  (a timeout), the login fails and the sessions it evicted stay alive, unlisted, until
  they expire.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from typing import Any, TypeVar

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from ..records import DataChanges, SessionRecord
from ._redis_schema import (
    CREATE,
    DATA_PREFIX,
    DELETE,
    INDEX_ADD,
    INDEX_MEMBERS,
    INDEX_REMOVE,
    LOAD_AND_TOUCH,
    SAVE_CHANGES,
    Command,
    Eval,
    Keys,
    Op,
    batch,
    decode,
    decode_record,
    digest,
    encode,
    pairs,
    record_fields,
    ttl_ms,
)

T = TypeVar("T")
Flow = Generator[Op, Any, T]

#: What a failed command raises: the drivers turn these into ``StoreError``.
BACKEND_ERRORS = (RedisError, RedisClusterException, OSError)

logger = logging.getLogger("session_middleware")
security_logger = logging.getLogger("session_middleware.security")


def _corrupt(token: str) -> None:
    security_logger.warning("session %s: stored record is unreadable; deleted", token[:12])


def _best_effort(op: Op, what: str) -> Flow[None]:
    """A clean-up step whose failure leaves only something the reads prune anyway."""
    try:
        yield op
    except BACKEND_ERRORS as exc:
        logger.warning("session store: %s failed (%s); left for later pruning", what, type(exc).__name__)


def load_and_touch(keys: Keys, session_id: str, now: float, user_id: str | None) -> Flow[SessionRecord | None]:
    token = digest(session_id)
    key = keys.session_at(token)
    args = (repr(now),) if user_id is None else (repr(now), encode(user_id))
    reply = yield Eval(LOAD_AND_TOUCH, key, args)
    if reply is None:
        return None
    if reply == 0:
        _corrupt(token)
        return None
    record = decode_record(reply, token, session_id)
    if record is None:
        _corrupt(token)
        yield Command(("DEL", key))
    return record


def save_changes(keys: Keys, session_id: str, changes: DataChanges, now: float) -> Flow[bool]:
    # A key both removed and updated ends up updated (DataChanges.apply); the script
    # writes before it removes, so such a key must not be in the removed list.
    removed = [encode(DATA_PREFIX + k) for k in changes.removed - changes.updated.keys()]
    updated: list[bytes] = []
    for k, text in changes.updated.items():
        updated += (encode(DATA_PREFIX + k), encode(text))
    args = (repr(now), "1" if changes.clear else "0", len(removed), *removed, *updated)
    reply = yield Eval(SAVE_CHANGES, keys.session(session_id), args)
    return bool(reply == 1)


def delete(keys: Keys, session_id: str, now: float) -> Flow[bool]:
    live, uid = yield from _delete_session(keys, session_id, now)
    if uid:
        yield from _best_effort(Eval(INDEX_REMOVE, keys.user(uid), (digest(session_id),)), "index clean-up")
    return live


def _delete_session(keys: Keys, session_id: str, now: float) -> Flow[tuple[bool, str]]:
    live, uid = yield Eval(DELETE, keys.session(session_id), (repr(now),))
    return live == 1, decode(uid)


def create(keys: Keys, record: SessionRecord, now: float, replaces: str | None, max_per_user: int | None) -> Flow[bool]:
    user_id = record.user_id
    dropped: list[str] = []  # members of the new session's index to remove along with the add
    if replaces is not None:
        live, old_uid = yield from _delete_session(keys, replaces, now)
        if not live:
            return False
        if old_uid and old_uid == user_id:
            dropped.append(digest(replaces))
        elif old_uid:
            yield from _best_effort(Eval(INDEX_REMOVE, keys.user(old_uid), (digest(replaces),)), "index clean-up")
    if not record.is_live(now):
        return True  # already past its expiry: there is nothing to keep
    order: list[str] = []
    if user_id is not None and max_per_user is not None:
        order = yield from _eviction_order(keys, user_id, now, max_per_user, dropped)
    key, token = keys.session(record.id), digest(record.id)
    yield Eval(CREATE, key, (ttl_ms(record.expires_at, now), *record_fields(record)))
    if user_id is None:
        return True
    index = keys.user(user_id)
    cap = "" if max_per_user is None else str(max_per_user)
    add = (repr(now), cap, token, 1, token, repr(float(record.absolute_expiry)), len(dropped), *dropped, *order)
    try:
        evicted = yield Eval(INDEX_ADD, index, add)
    except BACKEND_ERRORS:
        yield from _best_effort(Command(("DEL", key)), "removing an unindexed session")
        raise
    victims = pairs(evicted)
    if victims:
        try:
            yield batch(Command(("DEL", keys.session_at(t))) for t in victims)
        except BACKEND_ERRORS:
            restore = [x for member, score in victims.items() for x in (member, score)]
            yield from _best_effort(Eval(INDEX_ADD, index, (repr(now), "", "", len(victims), *restore, 0)), "re-index")
            raise
        logger.info("user's session cap reached: closed %d session(s)", len(victims))
    return True


def _eviction_order(keys: Keys, user_id: str, now: float, cap: int, dropped: list[str]) -> Flow[list[str]]:
    """The user's indexed sessions, least recently used (and dead ones) first; only read
    when the cap may be reached."""
    members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, keys.user(user_id), (repr(now),)))]
    members = [m for m in members if m not in dropped]
    if len(members) < cap:
        return []
    fields = ("last_request", "idle_timeout", "absolute_expiry", "uid")
    replies = yield batch(Command(("HMGET", keys.session_at(m), *fields)) for m in members)
    recency: dict[str, float] = {}
    for member, reply in zip(members, replies, strict=True):
        recency[member] = float("-inf")
        if isinstance(reply, Exception) or None in reply or decode(reply[3]) != user_id:
            continue
        try:
            last, idle, absolute = (float(decode(x)) for x in reply[:3])
        except ValueError:
            continue
        if now < min(last + idle, absolute):
            recency[member] = last
    return sorted(members, key=recency.__getitem__)


def list_by_user(keys: Keys, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    index = keys.user(user_id)
    members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, index, (repr(now),)))]
    if not members:
        return []
    replies = yield batch(Command(("HGETALL", keys.session_at(m))) for m in members)
    live: list[SessionRecord] = []
    prune: list[str] = []
    corrupt: list[str] = []
    for member, reply in zip(members, replies, strict=True):
        if isinstance(reply, ResponseError):  # not a hash at all
            corrupt.append(member)
            continue
        if isinstance(reply, Exception):
            raise reply
        record = decode_record(reply, member) if reply else None
        if reply and record is None:
            corrupt.append(member)
        elif record is None or not record.is_live(now) or record.user_id != user_id:
            prune.append(member)  # gone, expired, or not this user's: the entry dangles
        else:
            live.append(record)
    if corrupt:
        for member in corrupt:
            _corrupt(member)
        yield from _best_effort(batch(Command(("DEL", keys.session_at(m))) for m in corrupt), "deleting")
    if prune or corrupt:
        yield from _best_effort(Eval(INDEX_REMOVE, index, (*prune, *corrupt)), "index pruning")
    return sorted(live, key=lambda r: r.opened)


def find_by_client(keys: Keys, user_id: str, address: str, client: str, now: float) -> Flow[SessionRecord | None]:
    records = yield from list_by_user(keys, user_id, now)
    matches = [r for r in records if r.address == address and r.client == client]
    return max(matches, key=lambda r: r.last_request, default=None)


def close_by_user(
    keys: Keys, user_id: str, address: str | None, client: str | None, keep: str | None, now: float
) -> Flow[int]:
    records = yield from list_by_user(keys, user_id, now)
    doomed = [
        r.id
        for r in records
        if r.id != keep and (address is None or r.address == address) and (client is None or r.client == client)
    ]
    if not doomed:
        return 0
    replies = yield batch(Command(("DEL", keys.session(sid))) for sid in doomed)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    yield from _best_effort(Eval(INDEX_REMOVE, keys.user(user_id), tuple(digest(s) for s in doomed)), "index clean-up")
    return sum(1 for reply in replies if reply == 1)
