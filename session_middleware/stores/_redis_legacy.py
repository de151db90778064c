"""The steps for legacy sessions: logged in under untagged ids, before sessions shared
their user's hash slot, and indexed by the user's legacy index.

Each step here touches one slot, so the order of the steps makes every partial failure
harmless (see the theory of operation in ``_redis_flows``). This module goes when legacy
sessions are gone (``docs/stores.md``, "Legacy sessions").
"""

from __future__ import annotations

from typing import Any

from ..records import SessionRecord
from ._redis_memo import TouchMemo
from ._redis_schema import Command, Eval, Keys, batch, decode, digest, record_fields, ttl_ms
from ._redis_scripts import CREATE, INDEX_ADD, INDEX_MEMBERS, INDEX_REMOVE
from ._redis_steps import BACKEND_ERRORS, Flow, best_effort, logger, sort_out, wrong_type


def unindex(keys: Keys, user_id: str, members: list[str]) -> Flow[None]:
    yield from best_effort(Eval(INDEX_REMOVE, (keys.legacy_index(user_id),), tuple(members)), "index clean-up")


def create(
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
            ranked = yield from recency(keys, user_id, now, members)
            order = [m for m, _ in sorted(ranked, key=lambda item: float("-inf") if item[1] is None else item[1])]
    cap_arg = "" if cap is None else str(cap)
    add = (repr(now), cap_arg, token, repr(float(record.absolute_expiry)), len(dropped), *dropped, *order)
    try:
        yield Eval(CREATE, (key,), (ttl_ms(record.expires_at, now), *record_fields(record)))
        picked = yield Eval(INDEX_ADD, (index,), add)
    except BACKEND_ERRORS:  # the session may be written (a reply lost), but unindexed
        yield from best_effort(Command(("DEL", key)), "removing an unindexed session")
        raise
    if picked:
        logger.info("user's session cap reached: closing %d session(s)", len(picked))
        yield from close(keys, memo, user_id, [decode(m) for m in picked])


def recency(keys: Keys, user_id: str, now: float, members: list[str]) -> Flow[list[tuple[str, float | None]]]:
    """Each legacy member's last request, or ``None`` if its session is not live and the user's."""
    fields = ("last_request", "idle_timeout", "absolute_expiry", "uid")
    replies = yield batch(Command(("HMGET", keys.session_at(m), *fields)) for m in members)
    ranked: list[tuple[str, float | None]] = []
    for member, reply in zip(members, replies, strict=True):
        if isinstance(reply, Exception) and not wrong_type(reply):
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


def close(keys: Keys, memo: TouchMemo, user_id: str, members: list[str]) -> Flow[int]:
    """Close legacy sessions: the sessions first, then (best effort) their entries."""
    for member in members:
        memo.forget(member)
    replies = yield batch(Command(("DEL", keys.session_at(m))) for m in members)
    for reply in replies:
        if isinstance(reply, Exception):
            raise reply
    yield from unindex(keys, user_id, members)
    return sum(1 for reply in replies if reply == 1)


def list_sessions(keys: Keys, memo: TouchMemo, user_id: str, now: float) -> Flow[list[SessionRecord]]:
    index = keys.legacy_index(user_id)
    members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, (index,), (repr(now),)))]
    if not members:
        return []
    replies = yield batch(Command(("HGETALL", keys.session_at(m))) for m in members)
    found: list[tuple[str, Any]] = []
    for member, reply in zip(members, replies, strict=True):
        if isinstance(reply, Exception) and not wrong_type(reply):
            raise reply
        found.append((member, reply))
    return (yield from sort_out(keys, memo, index, None, user_id, now, [], found))


def cap_candidates(keys: Keys, user_id: str, now: float) -> Flow[list[tuple[str, float]]]:
    """The user's live legacy sessions and their last requests, for a tagged login's cap."""
    members = [decode(m) for m in (yield Eval(INDEX_MEMBERS, (keys.legacy_index(user_id),), (repr(now),)))]
    if not members:
        return []
    ranked = yield from recency(keys, user_id, now, members)
    return [(m, last) for m, last in ranked if last is not None]
