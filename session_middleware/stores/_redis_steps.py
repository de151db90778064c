"""Steps the RedisStore flows share: error handling, clean-ups, sorting an index's sessions."""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterable
from typing import Any, TypeVar

from redis.exceptions import RedisClusterException, RedisError, ResponseError

from ..records import SessionRecord
from ._redis_memo import TouchMemo
from ._redis_schema import Command, Eval, Keys, Op, batch, decode, decode_record
from ._redis_scripts import INDEX_REMOVE

T = TypeVar("T")
Flow = Generator[Op, Any, T]

#: What a failed command raises: thrown into the flows, and ``StoreError`` if it escapes.
BACKEND_ERRORS = (RedisError, RedisClusterException, OSError)

logger = logging.getLogger("session_middleware")
security_logger = logging.getLogger("session_middleware.security")


def corrupt(token: str) -> None:
    security_logger.warning("session %s: stored record is unreadable; deleted", token[:12])


def wrong_type(reply: object) -> bool:
    """A reply that says the key holds another type: a damaged record, not an outage."""
    return isinstance(reply, ResponseError) and str(reply).startswith("WRONGTYPE")


def best_effort(op: Op, what: str) -> Flow[None]:
    """A clean-up step whose failure leaves only something the reads prune anyway."""
    try:
        yield op
    except BACKEND_ERRORS as exc:
        logger.warning("session store: %s failed (%s); left for later pruning", what, type(exc).__name__)


def tag_suffix(tag: str | None) -> str:
    return "" if tag is None else f"{{{tag}}}"


def sort_out(
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
    unreadable: list[str] = []
    for raw_member, reply in found:
        member = decode(raw_member)
        record = decode_record(reply, member) if reply and not isinstance(reply, Exception) else None
        if reply and record is None:
            unreadable.append(member)
        elif record is None or not record.is_live(now) or record.user_id != user_id:
            prune.append(member)  # gone, expired, or not this user's: the entry dangles
        else:
            live.append(record)
    for member in damaged + unreadable:
        corrupt(member)
        memo.forget(member)
    if unreadable:
        yield from best_effort(batch(Command(("DEL", keys.session_at(m, tag))) for m in unreadable), "deleting")
    if prune or unreadable:
        yield from best_effort(Eval(INDEX_REMOVE, (index,), (*prune, *unreadable)), "index pruning")
    return live
