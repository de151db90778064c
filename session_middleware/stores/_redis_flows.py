"""RedisStore's operations, written once as generators of Redis commands.

Each flow yields :mod:`._redis_schema` commands and is sent their replies; the store runs
them with ``session_middleware._drive`` (sync or async). A failed command's exception is
thrown into the flow, so a flow can undo a half-done write before the error reaches the
caller, who sees it as ``StoreError``.

Theory of operation
-------------------
Promises, whatever step fails and however (before a command runs, or after it ran with
its reply lost): a session that is alive is listed by its user's listing, so "sign out
everywhere" (close_by_user) closes it; a closed session is never written back; a write
that returned ``True`` is stored; a failure is a ``StoreError``.

A logged-in session with a tagged id (``new_session_id(user_id)``) shares its user's hash
slot with the user's index, so every step that spans both is one script, atomic even on
a cluster: create (write, index, apply the cap, close the evicted), delete (session and
entry), close_by_user, and the listing. Losing a cluster master loses a user's session
and its index together.

*Legacy* logged-in sessions (untagged ids, stored before ids were tagged) live in their
own slots, indexed by the user's legacy index; each step touches one slot and the order
makes every partial failure harmless:

- a legacy create writes the session, then indexes it; if indexing fails the session is
  deleted again (nobody has its id yet: the cookie is sent only after success).
- a delete removes the session first, then its index entry; a failure in between leaves
  a *dangling* entry, which the next read of the index prunes.
- sessions to evict are picked while they stay indexed, closed, and only then unindexed:
  a failure leaves them alive and listed, or dead with dangling entries.
- reading an index checks every member against its session: missing, expired, corrupt
  or another user's sessions are pruned, never listed. Index scores are absolute
  expiries, which never move, so a touch (one script on the session alone) never needs
  the index.

A user's cap counts both kinds: a login reads the legacy index first (usually empty) and
hands its live sessions to the atomic script, which ranks them with the tagged ones.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from ..records import DataChanges, SessionRecord, session_tag, user_tag
from ._redis_memo import TouchMemo
from ._redis_schema import (
    DATA_PREFIX,
    Command,
    Eval,
    Keys,
    Op,
    batch,
    colocated,
    decode,
    decode_record,
    digest,
    encode,
    record_fields,
    ttl_ms,
)
from ._redis_scripts import (
    CLOSE_INDEXED,
    CREATE,
    CREATE_INDEXED,
    DELETE,
    INDEX_ADD,
    INDEX_MEMBERS,
    INDEX_REMOVE,
    LIST_INDEXED,
    LOAD_AND_TOUCH,
    SAVE_CHANGES,
)

T = TypeVar("T")
Flow = Generator[Op, Any, T]

#: What a failed command raises: thrown into the flows, and ``StoreError`` if it escapes.
BACKEND_ERRORS = (RedisError, RedisClusterException, OSError)

logger = logging.getLogger("session_middleware")
security_logger = logging.getLogger("session_middleware.security")


def _corrupt(token: str) -> None:
    security_logger.warning("session %s: stored record is unreadable; deleted", token[:12])


def _wrong_type(reply: object) -> bool:
    """A reply that says the key holds another type: a damaged record, not an outage."""
    return isinstance(reply, ResponseError) and str(reply).startswith("WRONGTYPE")


def _best_effort(op: Op, what: str) -> Flow[None]:
    """A clean-up step whose failure leaves only something the reads prune anyway."""
    try:
        yield op
    except BACKEND_ERRORS as exc:
        logger.warning("session store: %s failed (%s); left for later pruning", what, type(exc).__name__)


def _tag_suffix(tag: str | None) -> str:
    return "" if tag is None else f"{{{tag}}}"


def ping() -> Flow[None]:
    yield Command(("PING",))


# -- one session -----------------------------------------------------------------------


def load_and_touch(
    keys: Keys, memo: TouchMemo, session_id: str, now: float, user_id: str | None, interval: float
) -> Flow[SessionRecord | None]:
    if not 0 <= interval < math.inf:
        raise ValueError(f"touch_interval must be a finite number of seconds >= 0, not {interval!r}")
    token = digest(session_id)
    key = keys.session_at(token, session_tag(session_id))
    if interval > 0 and memo.fresh(token, now, interval):
        return (yield from _read(key, token, memo, session_id, now, user_id))
    args = (
        (repr(now), repr(float(interval))) if user_id is None else (repr(now), repr(float(interval)), encode(user_id))
    )
    reply = yield Eval(LOAD_AND_TOUCH, (key,), args)
    if reply is None:
        memo.forget(token)
        return None
    if reply == 0:
        _corrupt(token)
        memo.forget(token)
        return None
    record = decode_record(reply, token, session_id)
    if record is None:
        _corrupt(token)
        memo.forget(token)
        yield from _best_effort(Command(("DEL", key)), "deleting")
        return None
    memo.note(token, record.last_request)
    return record


def _read(
    key: str, token: str, memo: TouchMemo, session_id: str, now: float, user_id: str | None
) -> Flow[SessionRecord | None]:
    """A read within the touch interval: one ``HGETALL``, nothing written (the store's
    clock still decides whether the session is live)."""
    try:
        reply = yield Command(("HGETALL", key))
    except ResponseError as exc:
        if not _wrong_type(exc):
            raise
        reply = exc
    record = decode_record(reply, token, session_id) if reply and not isinstance(reply, Exception) else None
    if record is None or not record.is_live(now):
        memo.forget(token)
        if reply and record is None:
            _corrupt(token)
            yield from _best_effort(Command(("DEL", key)), "deleting")
        return None
    return record if user_id is None or record.user_id == user_id else None


def save_changes(keys: Keys, memo: TouchMemo, session_id: str, changes: DataChanges, now: float) -> Flow[bool]:
    # A key both removed and updated ends up updated (DataChanges.apply); the script
    # writes before it removes, so such a key must not be in the removed list.
    removed = [encode(DATA_PREFIX + k) for k in changes.removed - changes.updated.keys()]
    updated: list[bytes] = []
    for k, text in changes.updated.items():
        updated += (encode(DATA_PREFIX + k), encode(text))
    args = (repr(now), "1" if changes.clear else "0", len(removed), *removed, *updated)
    reply = yield Eval(SAVE_CHANGES, (keys.session(session_id),), args)
    if reply != 1:
        memo.forget(digest(session_id))
    return bool(reply == 1)


def delete(keys: Keys, memo: TouchMemo, session_id: str, now: float) -> Flow[bool]:
    live, uid, legacy = yield from _delete_session(keys, memo, session_id, now)
    if legacy:
        yield from _unindex_legacy(keys, uid, [digest(session_id)])
    return live


def _delete_session(keys: Keys, memo: TouchMemo, session_id: str, now: float) -> Flow[tuple[bool, str, bool]]:
    """Delete a live session (and, if tagged, its index entry in the same step).

    Returns whether it was live, its user id, and whether a legacy index entry is left."""
    token, tag = digest(session_id), session_tag(session_id)
    memo.forget(token)
    args = (repr(now), token, keys.indexes, _tag_suffix(tag))
    live, uid, unindexed = yield Eval(DELETE, (keys.session_at(token, tag),), args)
    uid = decode(uid)
    return live == 1, uid, bool(live == 1 and uid and unindexed != 1)


def _unindex_legacy(keys: Keys, user_id: str, members: list[str]) -> Flow[None]:
    yield from _best_effort(Eval(INDEX_REMOVE, (keys.legacy_index(user_id),), tuple(members)), "index clean-up")


# -- create --------------------------------------------------------------------------------


def create(
    keys: Keys, memo: TouchMemo, record: SessionRecord, now: float, replaces: str | None, max_per_user: int | None
) -> Flow[bool]:
    user_id = record.user_id
    tagged = colocated(record)
    dropped: list[str] = []  # legacy entries to remove along with a legacy add
    if replaces is not None:
        live, old_uid, legacy = yield from _delete_session(keys, memo, replaces, now)
        if not live:
            return False
        if legacy and old_uid == user_id and not tagged:
            dropped.append(digest(replaces))
        elif legacy:
            yield from _unindex_legacy(keys, old_uid, [digest(replaces)])
    if not record.is_live(now):
        return True  # already past its expiry: there is nothing to keep
    key = keys.session(record.id)
    if user_id is None:
        yield Eval(CREATE, (key,), (ttl_ms(record.expires_at, now), *record_fields(record)))
    elif tagged:
        yield from _create_indexed(keys, memo, record, user_id, key, now, max_per_user)
    else:
        yield from _create_legacy(keys, memo, record, user_id, key, now, max_per_user, dropped)
    memo.note(digest(record.id), record.last_request)
    return True


def _create_indexed(
    keys: Keys, memo: TouchMemo, record: SessionRecord, user_id: str, key: str, now: float, cap: int | None
) -> Flow[None]:
    external: list[tuple[str, float]] = []
    if cap is not None:  # the user's legacy sessions count too
        members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, (keys.legacy_index(user_id),), (repr(now),)))]
        if members:
            ranked = yield from _recency(keys, user_id, now, members)
            external = [(m, last) for m, last in ranked if last is not None]
    args = (
        repr(now),
        ttl_ms(record.expires_at, now),
        "" if cap is None else str(cap),
        digest(record.id),
        repr(float(record.absolute_expiry)),
        keys.sessions,
        _tag_suffix(user_tag(user_id)),
        encode(user_id),
        0,
        len(external),
        *(x for member, last in external for x in (member, repr(last))),
        *record_fields(record),
    )
    evicted, outside = yield Eval(CREATE_INDEXED, (key, keys.index(user_id)), args)
    for member in evicted:
        memo.forget(decode(member))
    if evicted or outside:
        logger.info("user's session cap reached: closing %d session(s)", len(evicted) + len(outside))
    if outside:
        yield from _close_legacy(keys, memo, user_id, [decode(m) for m in outside])


def _create_legacy(
    keys: Keys,
    memo: TouchMemo,
    record: SessionRecord,
    user_id: str,
    key: str,
    now: float,
    cap: int | None,
    dropped: list[str],
) -> Flow[None]:
    index, token = keys.legacy_index(user_id), digest(record.id)
    order: list[str] = []
    if cap is not None:
        members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, (index,), (repr(now),)))]
        members = [m for m in members if m not in dropped]
        if len(members) >= cap:  # least recently used (and dead ones) first
            ranked = yield from _recency(keys, user_id, now, members)
            order = [m for m, _ in sorted(ranked, key=lambda item: float("-inf") if item[1] is None else item[1])]
    cap_arg = "" if cap is None else str(cap)
    add = (repr(now), cap_arg, token, repr(float(record.absolute_expiry)), len(dropped), *dropped, *order)
    try:
        yield Eval(CREATE, (key,), (ttl_ms(record.expires_at, now), *record_fields(record)))
        picked = yield Eval(INDEX_ADD, (index,), add)
    except BACKEND_ERRORS:  # the session may be written (a reply lost), but unindexed
        yield from _best_effort(Command(("DEL", key)), "removing an unindexed session")
        raise
    if picked:
        logger.info("user's session cap reached: closing %d session(s)", len(picked))
        yield from _close_legacy(keys, memo, user_id, [decode(m) for m in picked])


def _recency(keys: Keys, user_id: str, now: float, members: list[str]) -> Flow[list[tuple[str, float | None]]]:
    """Each legacy member's last request, or ``None`` if its session is not live and the user's."""
    fields = ("last_request", "idle_timeout", "absolute_expiry", "uid")
    replies = yield batch(Command(("HMGET", keys.session_at(m), *fields)) for m in members)
    ranked: list[tuple[str, float | None]] = []
    for member, reply in zip(members, replies, strict=True):
        if isinstance(reply, Exception) and not _wrong_type(reply):
            raise reply
        last: float | None = None
        if not isinstance(reply, Exception) and None not in reply and decode(reply[3]) == user_id:
            try:
                at, idle, absolute = (float(decode(x)) for x in reply[:3])
            except ValueError:
                at = idle = absolute = float("nan")
            if now < min(at + idle, absolute):
                last = at
        ranked.append((member, last))
    return ranked


def _close_legacy(keys: Keys, memo: TouchMemo, user_id: str, members: list[str]) -> Flow[int]:
    """Close legacy sessions: the sessions first, then (best effort) their entries."""
    for member in members:
        memo.forget(member)
    replies = yield batch(Command(("DEL", keys.session_at(m))) for m in members)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    yield from _unindex_legacy(keys, user_id, members)
    return sum(1 for reply in replies if reply == 1)


# -- a user's sessions -------------------------------------------------------------------


def list_by_user(keys: Keys, memo: TouchMemo, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    tagged = yield from _list_indexed(keys, memo, user_id, now)
    legacy = yield from _list_legacy(keys, memo, user_id, now)
    return sorted(tagged + legacy, key=lambda r: r.opened)


def _list_indexed(keys: Keys, memo: TouchMemo, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    index, tag = keys.index(user_id), user_tag(user_id)
    reply = yield Eval(LIST_INDEXED, (index,), (repr(now), keys.sessions, _tag_suffix(tag)))
    damaged = [decode(m) for m in reply[0]]  # already deleted and unindexed by the script
    items = iter(reply[1:])
    return (yield from _sort_out(keys, memo, index, tag, user_id, now, damaged, zip(items, items, strict=True)))


def _list_legacy(keys: Keys, memo: TouchMemo, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    index = keys.legacy_index(user_id)
    members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, (index,), (repr(now),)))]
    if not members:
        return []
    replies = yield batch(Command(("HGETALL", keys.session_at(m))) for m in members)
    found: list[tuple[str, Any]] = []
    for member, reply in zip(members, replies, strict=True):
        if isinstance(reply, Exception) and not _wrong_type(reply):
            raise reply
        found.append((member, reply))
    return (yield from _sort_out(keys, memo, index, None, user_id, now, [], found))


def _sort_out(
    keys: Keys,
    memo: TouchMemo,
    index: str,
    tag: str | None,
    user_id: str,
    now: float,
    damaged: list[str],
    found: Iterable[tuple[Any, Any]],
) -> Flow[list[SessionRecord]]:
    """The live records of this user among an index's ``(member, hash)`` pairs; prunes
    the others' entries, deleting damaged records."""
    live: list[SessionRecord] = []
    prune: list[str] = []
    corrupt: list[str] = []
    for raw_member, reply in found:
        member = decode(raw_member)
        record = decode_record(reply, member) if reply and not isinstance(reply, Exception) else None
        if reply and record is None:
            corrupt.append(member)
        elif record is None or not record.is_live(now) or record.user_id != user_id:
            prune.append(member)  # gone, expired, or not this user's: the entry dangles
        else:
            live.append(record)
    for member in damaged + corrupt:
        _corrupt(member)
        memo.forget(member)
    if corrupt:
        yield from _best_effort(batch(Command(("DEL", keys.session_at(m, tag))) for m in corrupt), "deleting")
    if prune or corrupt:
        yield from _best_effort(Eval(INDEX_REMOVE, (index,), (*prune, *corrupt)), "index pruning")
    return live


def find_by_client(
    keys: Keys, memo: TouchMemo, user_id: str, address: str, client: str, now: float
) -> Flow[SessionRecord | None]:
    records = yield from list_by_user(keys, memo, user_id, now)
    matches = [r for r in records if r.address == address and r.client == client]
    return max(matches, key=lambda r: r.last_request, default=None)


def close_by_user(
    keys: Keys,
    memo: TouchMemo,
    user_id: str,
    address: str | None,
    client: str | None,
    keep: str | None,
    now: float,
) -> Flow[int]:
    filters: list[str | bytes] = []
    for wanted in (address, client):
        filters += ("0",) if wanted is None else ("1", encode(wanted))
    args = (
        repr(now),
        keys.sessions,
        _tag_suffix(user_tag(user_id)),
        encode(user_id),
        digest(keep) if keep else "",
        *filters,
    )
    closed = [decode(m) for m in (yield Eval(CLOSE_INDEXED, (keys.index(user_id),), args))]
    for member in closed:
        memo.forget(member)
    legacy = yield from _list_legacy(keys, memo, user_id, now)
    doomed = [
        digest(r.id)
        for r in legacy
        if r.id != keep and (address is None or r.address == address) and (client is None or r.client == client)
    ]
    count = len(closed)
    if doomed:
        count += yield from _close_legacy(keys, memo, user_id, doomed)
    return count
