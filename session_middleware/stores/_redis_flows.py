"""RedisStore's operations, written once as generators of Redis commands.

Each flow yields :mod:`._redis_schema` commands and is sent their replies; the store runs
them with ``session_middleware._drive`` (sync or async). A failed command's exception is
thrown into the flow, so a flow can undo a half-done write before the error reaches the
caller, who sees it as ``StoreError``. The steps on legacy indexes are in
``_redis_legacy``, the steps both kinds share in ``_redis_steps``.

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

import math

from redis.exceptions import ResponseError

from ..records import DataChanges, SessionRecord, session_tag, user_tag
from . import _redis_legacy as legacy
from ._redis_memo import TouchMemo
from ._redis_schema import (
    DATA_PREFIX,
    Command,
    Eval,
    Keys,
    colocated,
    decode,
    decode_record,
    digest,
    encode,
    record_fields,
    ttl_ms,
)
from ._redis_scripts import CLOSE_INDEXED, CREATE, CREATE_INDEXED, DELETE, LIST_INDEXED, LOAD_AND_TOUCH, SAVE_CHANGES
from ._redis_steps import BACKEND_ERRORS as BACKEND_ERRORS
from ._redis_steps import Flow as Flow
from ._redis_steps import best_effort, corrupt, logger, sort_out, tag_suffix, wrong_type


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
        corrupt(token)
        memo.forget(token)
        return None
    record = decode_record(reply, token, session_id)
    if record is None:
        corrupt(token)
        memo.forget(token)
        yield from best_effort(Command(("DEL", key)), "deleting")
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
        if not wrong_type(exc):
            raise
        reply = exc
    record = decode_record(reply, token, session_id) if reply and not isinstance(reply, Exception) else None
    if record is None or not record.is_live(now):
        memo.forget(token)
        if reply and record is None:
            corrupt(token)
            yield from best_effort(Command(("DEL", key)), "deleting")
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
    live, uid, indexed_apart = yield from _delete_session(keys, memo, session_id, now)
    if indexed_apart:
        yield from legacy.unindex(keys, uid, [digest(session_id)])
    return live


def _delete_session(keys: Keys, memo: TouchMemo, session_id: str, now: float) -> Flow[tuple[bool, str, bool]]:
    """Delete a live session (and, if tagged, its index entry in the same step).

    Returns whether it was live, its user id, and whether a legacy index entry is left."""
    token, tag = digest(session_id), session_tag(session_id)
    memo.forget(token)
    args = (repr(now), token, keys.indexes, tag_suffix(tag))
    live, uid, unindexed = yield Eval(DELETE, (keys.session_at(token, tag),), args)
    uid = decode(uid)
    return live == 1, uid, bool(live == 1 and uid and unindexed != 1)


# -- create --------------------------------------------------------------------------------


def create(
    keys: Keys, memo: TouchMemo, record: SessionRecord, now: float, replaces: str | None, max_per_user: int | None
) -> Flow[bool]:
    user_id = record.user_id
    tagged = colocated(keys, record)
    dropped: list[str] = []  # legacy entries to remove along with a legacy add
    if replaces is not None:
        live, old_uid, indexed_apart = yield from _delete_session(keys, memo, replaces, now)
        if not live:
            return False
        if indexed_apart and old_uid == user_id and not tagged:
            dropped.append(digest(replaces))
        elif indexed_apart:
            yield from legacy.unindex(keys, old_uid, [digest(replaces)])
    if not record.is_live(now):
        return True  # already past its expiry: there is nothing to keep
    key = keys.session(record.id)
    if user_id is None:
        yield Eval(CREATE, (key,), (ttl_ms(record.expires_at, now), *record_fields(record)))
    elif tagged:
        yield from _create_indexed(keys, memo, record, user_id, key, now, max_per_user)
    else:
        yield from legacy.create(keys, memo, record, user_id, key, now, max_per_user, dropped)
    memo.note(digest(record.id), record.last_request)
    return True


def _create_indexed(
    keys: Keys, memo: TouchMemo, record: SessionRecord, user_id: str, key: str, now: float, cap: int | None
) -> Flow[None]:
    external: list[tuple[str, float]] = []
    if cap is not None and keys.legacy:  # the user's legacy sessions count too
        external = yield from legacy.cap_candidates(keys, user_id, now)
    args = (
        repr(now),
        ttl_ms(record.expires_at, now),
        "" if cap is None else str(cap),
        digest(record.id),
        repr(float(record.absolute_expiry)),
        keys.sessions,
        tag_suffix(user_tag(user_id)),
        encode(user_id),
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
        yield from legacy.close(keys, memo, user_id, [decode(m) for m in outside])


# -- a user's sessions -------------------------------------------------------------------


def list_by_user(keys: Keys, memo: TouchMemo, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    tagged = yield from _list_indexed(keys, memo, user_id, now)
    if not keys.legacy:
        return sorted(tagged, key=lambda r: r.opened)
    old = yield from legacy.list_sessions(keys, memo, user_id, now)
    return sorted(tagged + old, key=lambda r: r.opened)


def _list_indexed(keys: Keys, memo: TouchMemo, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    index, tag = keys.index(user_id), user_tag(user_id)
    reply = yield Eval(LIST_INDEXED, (index,), (repr(now), keys.sessions, tag_suffix(tag)))
    damaged = [decode(m) for m in reply[0]]  # already deleted and unindexed by the script
    items = iter(reply[1:])
    return (yield from sort_out(keys, memo, index, tag, user_id, now, damaged, zip(items, items, strict=True)))


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
        tag_suffix(user_tag(user_id)),
        encode(user_id),
        digest(keep) if keep else "",
        *filters,
    )
    closed = [decode(m) for m in (yield Eval(CLOSE_INDEXED, (keys.index(user_id),), args))]
    for member in closed:
        memo.forget(member)
    if not keys.legacy:
        return len(closed)
    old = yield from legacy.list_sessions(keys, memo, user_id, now)
    doomed = [
        digest(r.id)
        for r in old
        if r.id != keep and (address is None or r.address == address) and (client is None or r.client == client)
    ]
    count = len(closed)
    if doomed:
        count += yield from legacy.close(keys, memo, user_id, doomed)
    return count
