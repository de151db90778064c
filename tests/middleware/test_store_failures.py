"""Rule 10: a failing store gives 503 with Retry-After and keeps the cookie."""

from __future__ import annotations

import pytest

from session_middleware import StoreError
from session_middleware.records import id_hash

from .support import Browser, Harness, Reply, seed, sign


def assert_unavailable(reply: Reply) -> None:
    assert reply.status == 503
    assert reply.header("retry-after") == "2"
    assert reply.header("cache-control") == "no-store"
    assert reply.header_list("set-cookie") == []  # the user's cookie stays as it is
    assert b"unavailable" in reply.body and b'"data"' not in reply.body


def logged_in(h: Harness) -> Browser:
    browser = Browser(h)
    browser.get("/login?id=u1")
    browser.get("/set?a=1")
    h.store.reset()
    return browser


@pytest.mark.parametrize("path", ["/", "/set?a=2", "/logout", "/login?id=u2"])
def test_failing_load_answers_503_before_the_app_runs(h: Harness, path: str) -> None:
    browser = logged_in(h)
    h.store.failing.add("load_and_touch")
    assert_unavailable(browser.get(path))
    assert h.store.calls == ["load_and_touch"]  # the app never ran, so nothing else was tried


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/set?a=2", "save_changes"),
        ('/append?cart="x"', "save_changes"),
        ("/logout", "delete"),
        ("/regenerate", "create"),
        ("/login?id=u2", "create"),
        ("/del?a", "save_changes"),
    ],
)
def test_failing_write_answers_503_and_keeps_the_cookie(h: Harness, path: str, method: str) -> None:
    browser = logged_in(h)
    cookie, session_id = browser.cookie, browser.session_id or ""
    h.store.failing.add(method)
    assert_unavailable(browser.get(path))
    assert browser.cookie == cookie
    h.store.failing.clear()
    record = h.store.peek(session_id)
    assert record is not None and record.decoded_data() == {"a": 1} and record.user == {"id": "u1"}


def test_failing_create_of_a_new_session(h: Harness) -> None:
    h.store.failing.add("create")
    assert_unavailable(h.request("/set?a=1"))
    assert len(h.store) == 0


def test_recovers_by_itself_with_the_same_cookie(h: Harness) -> None:
    browser = logged_in(h)
    h.store.failing.add("*")
    for path in ["/", "/set?a=5", "/logout"]:
        assert_unavailable(browser.get(path))
    h.store.failing.clear()
    page = browser.get("/").json()
    assert page["user_id"] == "u1" and page["data"] == {"a": 1}
    browser.get("/set?a=5")
    assert browser.get("/").json()["data"] == {"a": 5}


@pytest.mark.parametrize("path", ["/", "/id", "/logout", "/?_status=404"])
def test_requests_without_a_cookie_pass_through_a_dead_store(h: Harness, path: str) -> None:
    h.store.failing.add("*")
    reply = h.request(path)
    assert reply.status in (200, 404) and reply.header_list("set-cookie") == []
    assert h.store.calls == []


def test_bad_signatures_pass_through_a_dead_store(h: Harness) -> None:
    session_id = seed(h.store, h.clock, a=1)
    h.store.failing.add("*")
    reply = h.request("/", cookie=sign(session_id)[:-3] + "abc")
    assert reply.status == 200 and reply.json()["is_new"] is True
    assert h.store.calls == []


def test_a_store_error_is_a_503_and_any_other_exception_a_bug_that_propagates(h: Harness) -> None:
    browser = logged_in(h)

    def raise_store_error() -> None:
        raise StoreError("backend gone")

    h.store.before["save_changes"] = raise_store_error
    assert_unavailable(browser.get("/set?a=3"))
    h.store.before.clear()

    def raise_runtime_error() -> None:
        raise RuntimeError("driver bug")

    h.store.before["load_and_touch"] = raise_runtime_error
    with pytest.raises(RuntimeError, match="driver bug"):  # never disguised as "store unavailable"
        browser.get("/")


def test_failures_are_logged_in_one_line_without_the_id(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    browser = logged_in(h)
    session_id = browser.session_id or ""
    h.store.failing.add("*")
    for _ in range(20):
        browser.get("/")
    warnings = [r for r in caplog.records if r.levelname == "WARNING" and r.name == "session_middleware"]
    assert len(warnings) == 1  # one burst, one line
    line = warnings[0].getMessage()
    assert "StoreError" in line and "loading a session" in line and id_hash(session_id) in line
    assert session_id not in line and warnings[0].exc_info is None
    tracebacks = [r for r in caplog.records if r.levelname == "DEBUG" and r.exc_info is not None]
    assert tracebacks  # the cause is kept for operators, at DEBUG
