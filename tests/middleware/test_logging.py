"""Rule 11: ids never reach logs or error messages; the guard that checks it, checked."""

from __future__ import annotations

import logging
import sys
from collections.abc import Generator
from typing import Any

import pytest

from session_middleware._ops import Delete, StoreOp, run_flow
from session_middleware.exceptions import StoreError
from session_middleware.records import id_hash

from .support import Browser, Harness, IdRegistry, find_leaks, sign


def _record(message: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = None
    if exc is not None:
        try:
            raise exc
        except BaseException:
            exc_info = sys.exc_info()
    return logging.LogRecord("x", logging.INFO, __file__, 1, message, args, exc_info)


def test_the_guard_finds_ids_in_messages_arguments_and_tracebacks() -> None:
    secret = "S" * 43
    assert find_leaks([_record(f"id {secret}")], {secret})
    assert find_leaks([_record("id %s", secret)], {secret})
    assert find_leaks([_record("failed", exc=KeyError(secret))], {secret})
    assert find_leaks([_record("cookie %s", sign(secret))], {secret})
    assert not find_leaks([_record("id %s", id_hash(secret))], {secret})


def test_the_guard_knows_every_id_a_request_made(h: Harness, id_registry: IdRegistry) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    browser.get("/login?id=u1")
    assert browser.session_id in id_registry.ids and len(id_registry.ids) == 2


def test_lifecycle_is_logged_with_short_hashes(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    first = browser.session_id or ""
    browser.get("/regenerate")
    second = browser.session_id or ""
    browser.get("/logout")
    h.request("/", cookie=sign(first))
    messages = [r.getMessage() for r in caplog.records if r.name == "session_middleware"]
    assert f"session {id_hash(first)} opened" in messages
    assert f"session {id_hash(first)} regenerated as {id_hash(second)}" in messages
    assert f"session {id_hash(second)} closed (logout)" in messages
    assert any(id_hash(first) in m and "gone" in m for m in messages)
    assert len(id_hash(first)) == 12


def test_only_store_errors_are_store_failures_and_a_bug_propagates_unchanged() -> None:
    secret = "S" * 43
    closed: list[bool] = []

    class Broken:
        def __init__(self, error: Exception) -> None:
            self.error = error

        def delete(self, session_id: str) -> bool:
            raise self.error

    def flow() -> Generator[StoreOp[Any], Any, None]:
        try:
            yield Delete(secret)
        finally:
            closed.append(True)

    with pytest.raises(StoreError):
        run_flow(flow(), Broken(StoreError("unreachable")))  # type: ignore[arg-type]
    with pytest.raises(AttributeError):  # a typo in a store is a bug, never "store unavailable"
        run_flow(flow(), Broken(AttributeError("no such method")))  # type: ignore[arg-type]
    assert closed == [True, True]  # the flow is closed either way


def test_a_store_failure_is_logged_without_the_session_id(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    h.store.failing.add("*")
    assert browser.get("/").status == 503
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert lines and all(browser.session_id not in line for line in lines)


def test_ids_are_never_taken_from_the_query_string_or_headers_other_than_cookie(h: Harness) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    value = browser.cookie or ""
    h.store.reset()
    for path, headers in [
        (f"/?session={value}", []),
        ("/", [("authorization", f"Bearer {value}")]),
        ("/", [("x-session", value), ("session", value)]),
    ]:
        assert h.request(path, headers=headers).json()["is_new"] is True
    assert h.store.calls == []
