"""Idle and absolute timeouts on a fake clock, and ``max_sessions_per_user``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from session_middleware import MemoryStore, SessionMiddleware, WSGISessionMiddleware

from .support import (
    KEY,
    AsyncGates,
    Browser,
    FakeClock,
    Harness,
    Kind,
    SpyStore,
    ThreadGates,
    raw_asgi_app,
    raw_wsgi_app,
)

HOUR = 3600.0
DAY = 24 * HOUR


def alive(browser: Browser) -> bool:
    reply = browser.get("/")
    assert reply.status == 200
    return not reply.json()["is_new"]


def test_idle_timeout_slides_with_each_request(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, idle_timeout=HOUR)
    browser = Browser(h)
    browser.get("/login?id=u1")
    for _ in range(5):  # five hours of activity, never idle for an hour
        h.clock.advance(HOUR - 1)
        assert alive(browser)
    record = h.store.peek(browser.session_id or "")
    assert record is not None and record.expires_at == h.clock() + HOUR
    h.clock.advance(HOUR)  # exactly idle_timeout after the last request: gone
    reply = browser.get("/")
    assert reply.json()["is_new"] is True and reply.json()["user"] is None
    assert browser.cookie is None  # the stale cookie was cleared
    assert len(h.store) == 0


def test_default_idle_timeout_is_a_day(h: Harness) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    h.clock.advance(DAY - 1)
    assert alive(browser)
    h.clock.advance(DAY)
    assert not alive(browser)


def test_absolute_timeout_is_not_extended_by_activity(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, idle_timeout=10 * HOUR, absolute_timeout=DAY)
    browser = Browser(h)
    browser.get("/login?id=u1")
    opened = h.clock()
    while h.clock() + 5 * HOUR < opened + DAY:
        h.clock.advance(5 * HOUR)
        assert alive(browser)
        browser.get(f"/set?t={int(h.clock())}")
        browser.get("/regenerate")  # a new id keeps the original deadline
        record = h.store.peek(browser.session_id or "")
        assert record is not None and record.absolute_expiry == opened + DAY
        assert record.expires_at <= opened + DAY
    h.clock.set(opened + DAY - 1)
    assert alive(browser)
    h.clock.set(opened + DAY)
    assert not alive(browser)


def test_a_new_login_starts_a_new_absolute_lifetime(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, absolute_timeout=DAY)
    browser = Browser(h)
    browser.get("/login?id=u1")
    h.clock.advance(20 * HOUR)
    browser.get("/login?id=u2")
    h.clock.advance(20 * HOUR)
    assert alive(browser)


def test_logging_in_again_as_the_same_user_is_a_new_authentication(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, absolute_timeout=DAY)
    browser = Browser(h)
    browser.get("/login?id=u1")
    h.clock.advance(20 * HOUR)
    browser.get("/login?id=u1")
    record = h.store.peek(browser.session_id or "")
    assert record is not None and record.opened == h.clock() and record.absolute_expiry == h.clock() + DAY
    h.clock.advance(20 * HOUR)  # 40 hours after the first login, 20 after the second
    assert alive(browser)


def test_clock_option_drives_the_default_store(clock: FakeClock, raw_kind: Kind) -> None:
    app: Any
    if raw_kind == "asgi":
        app = SessionMiddleware(raw_asgi_app(AsyncGates()), secret_key=KEY, clock=clock, idle_timeout=60)
    else:
        app = WSGISessionMiddleware(raw_wsgi_app(ThreadGates()), secret_key=KEY, clock=clock, idle_timeout=60)
    store = app.core.store
    assert isinstance(store, MemoryStore)
    h = Harness(raw_kind, app, SpyStore(store), clock)
    if h.is_asgi:
        h.runner = asyncio.Runner()
    try:
        browser = Browser(h)
        browser.get("/set?a=1")
        clock.advance(59)
        assert alive(browser)
        clock.advance(60)
        assert not alive(browser)
    finally:
        if h.runner is not None:
            h.runner.close()


# -- max_sessions_per_user -----------------------------------------------------------


@pytest.fixture
def capped(make: Callable[..., Harness], kind: Kind) -> Iterator[Harness]:
    yield make(kind, max_sessions_per_user=2, touch_interval=0)  # every request counts as a use


def test_login_past_the_cap_closes_the_least_recently_used(capped: Harness) -> None:
    h = capped
    phone, laptop, tablet = Browser(h), Browser(h), Browser(h)
    phone.get("/login?id=u1")
    h.clock.advance(10)
    laptop.get("/login?id=u1")
    h.clock.advance(10)
    assert alive(phone)  # the phone is now more recent than the laptop
    h.clock.advance(10)
    tablet.get("/login?id=u1")
    listed = {r.id for r in h.store.inner.list_by_user("u1")}
    assert listed == {phone.session_id, tablet.session_id}
    assert not alive(laptop)
    assert alive(phone) and alive(tablet)


def test_cap_counts_only_that_users_sessions(capped: Harness) -> None:
    h = capped
    others = [Browser(h) for _ in range(3)]
    for i, browser in enumerate(others):
        browser.get(f"/login?id=other{i}")
    anonymous = [Browser(h) for _ in range(3)]
    for browser in anonymous:
        browser.get("/set?a=1")
    mine = [Browser(h) for _ in range(4)]
    for browser in mine:
        h.clock.advance(1)
        browser.get("/login?id=me")
    assert len(h.store.inner.list_by_user("me")) == 2
    assert all(alive(b) for b in others + anonymous)
    assert [alive(b) for b in mine] == [False, False, True, True]


def test_logging_in_again_in_one_browser_does_not_use_up_the_cap(capped: Harness) -> None:
    h = capped
    phone, laptop = Browser(h), Browser(h)
    phone.get("/login?id=u1")
    laptop.get("/login?id=u1")
    for _ in range(3):
        h.clock.advance(1)
        laptop.get("/login?id=u1")  # a fresh id replaces the old one
    assert alive(phone) and alive(laptop)
    assert len(h.store.inner.list_by_user("u1")) == 2


def test_cap_of_one_keeps_only_the_newest_login(make: Callable[..., Harness], kind: Kind) -> None:
    h = make(kind, max_sessions_per_user=1)
    first, second = Browser(h), Browser(h)
    first.get("/login?id=u1")
    h.clock.advance(1)
    second.get("/login?id=u1")
    assert not alive(first) and alive(second)
