"""Lifecycle events: the event value, and hooks that fail, are async, or return awaitables."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import warnings
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware.events import (
    CLOSE_REASONS,
    EVENT_KINDS,
    CloseReason,
    EventKind,
    SessionEvent,
    aemit,
    emit,
)
from session_middleware.records import id_hash, new_session_id

SID = new_session_id("42")


def event(kind: EventKind = "logged_in", **changes: Any) -> SessionEvent:
    values: dict[str, Any] = {"session_id": SID, "user_id": "42", "user_name": "Ada", "client": "Firefox"}
    values.update(changes)
    return SessionEvent(kind, **values)


def test_kinds_and_reasons_are_the_documented_ones() -> None:
    assert EVENT_KINDS == {"created", "logged_in", "regenerated", "closed", "store_failure"}
    assert set(get_args(EventKind)) == EVENT_KINDS
    assert CLOSE_REASONS == {"logout", "revoked", "evicted"} == set(get_args(CloseReason))


def test_the_event_is_frozen_with_the_documented_fields_in_order() -> None:
    at = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    closed = SessionEvent("closed", SID, "42", "Ada", "Firefox", "10.0.0.7", "logout", at)
    names = [f.name for f in dataclasses.fields(SessionEvent)]
    assert names == ["kind", "session_id", "user_id", "user_name", "client", "address", "reason", "at"]
    assert (closed.address, closed.reason, closed.at) == ("10.0.0.7", "logout", at)
    with pytest.raises(dataclasses.FrozenInstanceError):
        closed.user_id = "7"  # type: ignore[misc]
    assert closed == SessionEvent("closed", SID, "42", "Ada", "Firefox", "10.0.0.7", "logout", at)


def test_defaults_stamp_the_time_in_utc() -> None:
    before = datetime.now(UTC)
    created = SessionEvent("created", SID)
    assert (created.user_id, created.user_name, created.client, created.address, created.reason) == (
        None,
        None,
        "",
        "",
        None,
    )
    assert created.at.tzinfo is not None and before <= created.at <= datetime.now(UTC)


def test_repr_names_the_session_by_hash_only() -> None:
    shown = repr(event())
    assert SID not in shown and "Ada" in shown
    assert event().session_hash == id_hash(SID) and SessionEvent("store_failure", None).session_hash is None


@pytest.mark.parametrize(
    ("kind", "reason"),
    [("opened", None), ("logged_in", "logout"), ("closed", "expired"), ("store_failure", "revoked")],
)
def test_unknown_kinds_and_misplaced_reasons_are_refused(kind: str, reason: str | None) -> None:
    with pytest.raises(ValueError):
        SessionEvent(kind, SID, reason=reason)  # type: ignore[arg-type]


def test_a_naive_time_is_refused_and_any_aware_one_kept() -> None:
    with pytest.raises(ValueError, match="aware"):
        event(at=datetime(2026, 1, 1))
    paris = timezone(timedelta(hours=1))
    assert event(at=datetime(2026, 1, 1, tzinfo=paris)).at.utcoffset() == timedelta(hours=1)


def test_emit_calls_the_hook_and_tolerates_none() -> None:
    seen: list[SessionEvent] = []
    emit(seen.append, event())
    emit(None, event())
    assert seen == [event(at=seen[0].at)]


def test_a_failing_hook_is_logged_in_one_line_without_the_id_and_never_propagates(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(e: SessionEvent) -> None:
        raise RuntimeError(f"audit log down while writing {e.session_id}")

    caplog.set_level(logging.DEBUG, logger="session_middleware")
    emit(broken, event("closed", reason="revoked"))
    records = [r for r in caplog.records if r.name == "session_middleware"]
    error, trace = records
    assert error.levelno == logging.ERROR and error.exc_info is None
    message = error.getMessage()
    assert "\n" not in message and "closed" in message and "RuntimeError" in message
    assert SID not in message and id_hash(SID) in message
    assert trace.levelno == logging.DEBUG and trace.exc_info is not None


def test_a_hook_that_raises_base_exceptions_is_not_silenced() -> None:
    def interrupted(e: SessionEvent) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        emit(interrupted, event())


def test_an_async_hook_under_a_sync_call_is_refused_closed_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    ran: list[SessionEvent] = []

    async def audit(e: SessionEvent) -> None:
        ran.append(e)

    caplog.set_level(logging.ERROR, logger="session_middleware")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "coroutine was never awaited" would be a RuntimeWarning
        emit(audit, event())
        gc.collect()
    assert ran == []
    [record] = caplog.records
    assert "awaitable" in record.getMessage() and "logged_in" in record.getMessage()


def test_a_future_returned_under_a_sync_call_is_cancelled() -> None:
    loop = asyncio.new_event_loop()
    try:
        future: asyncio.Future[None] = loop.create_future()
        emit(lambda e: future, event())
        assert future.cancelled()
    finally:
        loop.close()


def test_aemit_awaits_async_hooks_and_calls_sync_ones() -> None:
    seen: list[tuple[str, EventKind]] = []

    async def audit(e: SessionEvent) -> None:
        await asyncio.sleep(0)
        seen.append(("async", e.kind))

    def plain(e: SessionEvent) -> str:
        seen.append(("sync", e.kind))
        return "ignored"

    async def main() -> None:
        await aemit(audit, event("created"))
        await aemit(plain, event("regenerated"))
        await aemit(None, event())

    asyncio.run(main())
    assert seen == [("async", "created"), ("sync", "regenerated")]


def test_aemit_logs_failures_raised_before_and_after_awaiting(caplog: pytest.LogCaptureFixture) -> None:
    async def fails_late(e: SessionEvent) -> None:
        await asyncio.sleep(0)
        raise ValueError("late")

    def fails_early(e: SessionEvent) -> Awaitable[None]:
        raise LookupError("early")

    async def main() -> None:
        await aemit(fails_late, event())
        await aemit(fails_early, event("store_failure", session_id=None))

    caplog.set_level(logging.ERROR, logger="session_middleware")
    asyncio.run(main())
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "ValueError" in messages[0] and "LookupError" in messages[1] and "session none" in messages[1]


def test_aemit_lets_cancellation_through() -> None:
    async def cancelled(e: SessionEvent) -> None:
        raise asyncio.CancelledError

    async def main() -> None:
        with pytest.raises(asyncio.CancelledError):
            await aemit(cancelled, event())

    asyncio.run(main())


@settings(max_examples=50, deadline=None)
@given(
    kind=st.sampled_from(sorted(EVENT_KINDS)),
    reason=st.none() | st.sampled_from(sorted(CLOSE_REASONS)),
    user_name=st.none() | st.text(max_size=20),
)
def test_an_event_is_valid_exactly_when_its_reason_fits_its_kind(
    kind: EventKind, reason: CloseReason | None, user_name: str | None
) -> None:
    valid = reason is None or kind == "closed"
    try:
        made = SessionEvent(kind, SID, "42", user_name, reason=reason)
    except ValueError:
        assert not valid
    else:
        assert valid and made.reason == reason and SID not in repr(made)
