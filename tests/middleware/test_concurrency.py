"""Concurrent requests of one session (rules 5 and 8), interleaved deterministically.

A ``Slow`` request has loaded the session and done its work, then waits at a gate
until the test releases it; whatever the test does meanwhile happened "during" it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import pytest

from .support import Browser, Harness, Kind, Reply, Slow, sign

DAY = 24 * 3600.0


def logged_in(h: Harness, **data: int) -> Browser:
    browser = Browser(h)
    browser.get("/login?id=u1")
    if data:
        browser.get("/set?" + "&".join(f"{k}={v}" for k, v in data.items()))
    return browser


def data_of(h: Harness, session_id: str | None) -> dict[str, object] | None:
    record = None if session_id is None else h.store.peek(session_id)
    return None if record is None else record.decoded_data()


# -- rule 5: per-key merge -----------------------------------------------------------


def test_concurrent_requests_setting_different_keys_keep_both(h: Harness) -> None:
    browser = logged_in(h, x=0)
    slow = Slow(h, "/set?a=1", cookie=browser.cookie)
    fast = browser.get("/set?b=2")
    assert fast.status == 200
    assert slow.finish().status == 200
    assert data_of(h, browser.session_id) == {"x": 0, "a": 1, "b": 2}


def test_slow_reader_does_not_undo_a_concurrent_write(h: Harness) -> None:
    browser = logged_in(h, a=1, x=1)
    slow = Slow(h, "/", cookie=browser.cookie)
    browser.get("/set?a=2&b=3")
    assert browser.get("/del?x").status == 200
    h.store.reset()
    assert slow.finish().json()["data"] == {"a": 1, "x": 1}  # what it saw when it loaded
    assert h.store.calls == []  # a reader writes nothing back
    assert data_of(h, browser.session_id) == {"a": 2, "b": 3}


def test_concurrent_delete_and_set_of_different_keys(h: Harness) -> None:
    browser = logged_in(h, a=1, b=1)
    slow = Slow(h, "/del?a", cookie=browser.cookie)
    browser.get("/set?b=2&c=3")
    slow.finish()
    assert data_of(h, browser.session_id) == {"b": 2, "c": 3}


def test_same_key_last_commit_wins(h: Harness) -> None:
    browser = logged_in(h, a=0)
    slow = Slow(h, "/set?a=1", cookie=browser.cookie)
    browser.get("/set?a=2")
    slow.finish()
    assert data_of(h, browser.session_id) == {"a": 1}


def test_nested_mutations_of_different_keys_merge(h: Harness) -> None:
    browser = logged_in(h)
    browser.get("/set?cart=[]&wish=[]")
    slow = Slow(h, '/append?cart="book"', cookie=browser.cookie)
    browser.get('/append?wish="pen"')
    slow.finish()
    assert data_of(h, browser.session_id) == {"cart": ["book"], "wish": ["pen"]}


@pytest.mark.parametrize("flavour", ["asgi", "starlette"])
def test_many_asgi_requests_with_asyncio_gather(make: Callable[..., Harness], flavour: Kind) -> None:
    h = make(flavour)
    browser = logged_in(h)
    cookie = browser.cookie
    count = 12

    async def scenario() -> list[Reply]:
        requests = [asyncio.ensure_future(h.arequest(f"/set?k{i}={i}&_gate=g{i}", cookie=cookie)) for i in range(count)]
        for i in range(count):  # every request has loaded the session before any saves
            await h.asgi_gates.wait_arrival(f"g{i}")
        for i in reversed(range(count)):
            h.asgi_gates.release(f"g{i}")
        return await asyncio.gather(*requests)

    replies = h.run(scenario())
    assert [r.status for r in replies] == [200] * count
    assert all(r.header_list("set-cookie") == [] for r in replies)
    assert data_of(h, browser.session_id) == {f"k{i}": i for i in range(count)}


@pytest.mark.parametrize("flavour", ["wsgi", "flask"])
def test_many_wsgi_requests_in_threads(make: Callable[..., Harness], flavour: Kind) -> None:
    h = make(flavour)
    browser = logged_in(h)
    cookie = browser.cookie
    count = 12
    replies: dict[int, Reply] = {}

    def run(i: int) -> None:
        replies[i] = h.request(f"/set?k{i}={i}&_gate=g{i}", cookie=cookie)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for i in range(count):
        h.thread_gates.wait_arrival(f"g{i}")
    for i in range(count):
        h.thread_gates.release(f"g{i}")
    for thread in threads:
        thread.join(5)
    assert sorted(replies) == list(range(count))
    assert all(r.status == 200 for r in replies.values())
    assert data_of(h, browser.session_id) == {f"k{i}": i for i in range(count)}


# -- rule 8: no resurrection ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/set?a=2", "/", "/del?a", "/clear", '/append?cart="x"'])
def test_logout_during_a_slow_request_is_final(h: Harness, path: str) -> None:
    browser = logged_in(h, a=1)
    old_cookie, old_id = browser.cookie, browser.session_id or ""
    slow = Slow(h, path, cookie=old_cookie)
    assert (browser.get("/logout").cookie() or pytest.fail("no clearing cookie")).cleared
    late = slow.finish()
    assert late.status == 200
    assert h.store.peek(old_id) is None
    assert len(h.store) == 0 and h.store.inner.list_by_user("u1") == []
    assert h.request("/", cookie=old_cookie).json()["is_new"] is True


@pytest.mark.parametrize("path", ["/set?a=2", "/", "/regenerate", "/login?id=u1"])
def test_revocation_during_a_slow_request_is_final(h: Harness, path: str) -> None:
    browser = logged_in(h, a=1)
    old_id = browser.session_id or ""
    slow = Slow(h, path, cookie=browser.cookie)
    assert h.store.inner.close_by_user("u1") == 1  # what the REST API's DELETE does
    slow.finish()
    assert len(h.store) == 0 and h.store.inner.list_by_user("u1") == []
    assert h.store.peek(old_id) is None
    assert browser.get("/").json()["is_new"] is True


@pytest.mark.parametrize("path", ["/set?a=2", "/regenerate"])
def test_expiry_during_a_slow_request_is_final(h: Harness, path: str) -> None:
    browser = logged_in(h, a=1)
    slow = Slow(h, path, cookie=browser.cookie)
    h.clock.advance(DAY)
    slow.finish()
    h.clock.rewind(DAY - 1)  # even back in time, nothing was rewritten
    assert len(h.store) == 0


def test_slow_request_does_not_log_out_a_concurrent_login(h: Harness) -> None:
    """A request that held the pre-login session must not clear the cookie the login set."""
    browser = Browser(h)
    browser.get('/set?cart=["book"]')
    anonymous = browser.cookie
    slow = Slow(h, "/set?seen=1", cookie=anonymous)
    login = browser.get("/login?id=u1")
    new_cookie = login.cookie()
    assert new_cookie is not None and not new_cookie.cleared
    late = slow.finish()
    assert late.status == 200
    assert late.cookie() is None, "the late response would overwrite the login cookie"
    assert browser.get("/").json()["user_id"] == "u1"
    assert data_of(h, browser.session_id) == {"cart": ["book"]}


def test_two_concurrent_logins_leave_exactly_one_live_session(h: Harness) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    anonymous = browser.cookie
    slow = Slow(h, "/login?id=u1", cookie=anonymous)
    browser.get("/login?id=u1")
    winner = browser.session_id
    late = slow.finish()
    assert late.cookie() is None  # it lost the race: it neither sets nor clears a cookie
    assert [r.id for r in h.store.inner.list_by_user("u1")] == [winner]
    assert len(h.store) == 1
    assert browser.get("/").json()["user_id"] == "u1"
    assert h.request("/", cookie=anonymous).json()["is_new"] is True


def test_slow_emptying_request_does_not_clear_a_concurrent_login(h: Harness) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    slow = Slow(h, "/del?a", cookie=browser.cookie)
    browser.get("/login?id=u1")
    assert slow.finish().cookie() is None
    assert browser.get("/").json()["user_id"] == "u1"


def test_old_cookie_after_concurrent_regenerate_is_anonymous(h: Harness) -> None:
    browser = logged_in(h, a=1)
    old = browser.cookie
    slow = Slow(h, "/set?b=2", cookie=old)
    browser.get("/regenerate")
    slow.finish()
    assert data_of(h, browser.session_id) == {"a": 1}
    assert h.request("/", cookie=old).json()["is_new"] is True
    assert sign(browser.session_id or "") == browser.cookie


# -- isolation and atomic caps under real overlap ----------------------------------------


def _overlapping(h: Harness, requests: list[tuple[str, str | None]]) -> list[Reply]:
    """Runs the requests so that all of them have loaded their session before any commits."""
    count = len(requests)
    if h.is_asgi:

        async def scenario() -> list[Reply]:
            tasks = [
                asyncio.ensure_future(h.arequest(f"{path}{'&' if '?' in path else '?'}_gate=o{i}", cookie=cookie))
                for i, (path, cookie) in enumerate(requests)
            ]
            for i in range(count):
                await h.asgi_gates.wait_arrival(f"o{i}")
            for i in range(count):
                h.asgi_gates.release(f"o{i}")
            return list(await asyncio.gather(*tasks))

        result: list[Reply] = h.run(scenario())
        return result
    replies: dict[int, Reply] = {}

    def run(i: int, path: str, cookie: str | None) -> None:
        replies[i] = h.request(f"{path}{'&' if '?' in path else '?'}_gate=o{i}", cookie=cookie)

    threads = [threading.Thread(target=run, args=(i, *request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for i in range(count):
        h.thread_gates.wait_arrival(f"o{i}")
    for i in range(count):
        h.thread_gates.release(f"o{i}")
    for thread in threads:
        thread.join(5)
    return [replies[i] for i in range(count)]


def test_concurrent_users_never_see_each_others_sessions(h: Harness) -> None:
    browsers = [Browser(h) for _ in range(16)]
    for i, browser in enumerate(browsers):
        browser.get(f"/login?id=user{i}")
        browser.get(f"/set?mine={i}")
    requests: list[tuple[str, str | None]] = [(f"/set?seen={i}", b.cookie) for i, b in enumerate(browsers)]
    requests += [("/", None)] * 4  # anonymous visitors in the middle of it
    replies = _overlapping(h, requests)
    for i, reply in enumerate(replies[:16]):
        page = reply.json()
        assert page["user_id"] == f"user{i}" and page["data"] == {"mine": i, "seen": i}
        assert reply.header_list("set-cookie") == []
    assert all(r.json()["user"] is None and r.header_list("set-cookie") == [] for r in replies[16:])
    for i, browser in enumerate(browsers):
        assert data_of(h, browser.session_id) == {"mine": i, "seen": i}


def test_concurrent_logins_respect_the_cap(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, max_sessions_per_user=3)
    browsers = [Browser(h) for _ in range(12)]
    replies = _overlapping(h, [("/login?id=u1", None)] * len(browsers))
    assert all(r.status == 200 and r.cookie() is not None for r in replies)
    live = h.store.inner.list_by_user("u1")
    assert len(live) == 3 and len(h.store) == 3
    cookies = [(r.cookie() or pytest.fail("no cookie")).value for r in replies]
    alive = [c for c in cookies if not h.request("/", cookie=c).json()["is_new"]]
    assert len(alive) == 3
