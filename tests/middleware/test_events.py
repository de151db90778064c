"""Lifecycle events: the host app hears of sign-ins, sign-outs and store failures, never a cookie."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from session_middleware import MemoryStore
from session_middleware.events import SessionEvent

from .support import Browser, FakeClock, Harness, Kind

TOKEN = "admin-token"


@pytest.fixture
def heard() -> list[SessionEvent]:
    return []


@pytest.fixture
def h(make: Callable[..., Harness], kind: Kind, heard: list[SessionEvent]) -> Harness:
    return make(kind, on_event=heard.append, api_path="/sessions", api_token=TOKEN)


def _kinds(events: list[SessionEvent]) -> list[tuple[str, str | None]]:
    return [(e.kind, e.reason) for e in events]


def test_the_lifecycle_of_a_session_is_heard_in_order(h: Harness, heard: list[SessionEvent]) -> None:
    browser = Browser(h)
    browser.get("/set?a=1", headers=[("user-agent", "Phone/1")])
    anonymous = browser.session_id
    browser.get("/login?id=u1&name=Ada")
    signed_in = browser.session_id
    browser.get("/regenerate")
    browser.get("/logout")
    assert _kinds(heard) == [("created", None), ("logged_in", None), ("regenerated", None), ("closed", "logout")]
    created, login, regenerated, closed = heard
    assert created.session_id == anonymous and created.user_id is None and created.client == "Phone/1"
    assert login.session_id == signed_in and (login.user_id, login.user_name) == ("u1", "Ada")
    assert regenerated.session_id == closed.session_id != signed_in and closed.user_id == "u1"
    assert all(e.at.tzinfo is not None for e in heard)
    assert all(browser.cookie is None or browser.cookie not in repr(e) for e in heard)


def test_reads_and_writes_of_a_stored_session_are_not_events(h: Harness, heard: list[SessionEvent]) -> None:
    browser = Browser(h)
    browser.get("/set?a=1")
    browser.get("/set?a=2")
    browser.get("/")
    assert _kinds(heard) == [("created", None)]


def test_a_revoke_through_the_api_is_heard_as_revoked(h: Harness, heard: list[SessionEvent]) -> None:
    browser = Browser(h)
    browser.get("/login?id=u1")
    session_id = browser.session_id
    heard.clear()
    reply = h.request(
        f"/sessions/u1?session_id={session_id}", method="DELETE", headers=[("authorization", f"Bearer {TOKEN}")]
    )
    assert reply.status == 204
    assert _kinds(heard) == [("closed", "revoked")] and heard[0].session_id == session_id
    again = h.request(
        f"/sessions/u1?session_id={session_id}", method="DELETE", headers=[("authorization", f"Bearer {TOKEN}")]
    )
    assert again.status == 204 and len(heard) == 1  # already gone: nothing happened


def test_a_store_failure_is_heard(h: Harness, heard: list[SessionEvent]) -> None:
    browser = Browser(h)
    browser.get("/login?id=u1")
    heard.clear()
    h.store.failing.add("*")
    assert browser.get("/").status == 503
    assert [e.kind for e in heard] == ["store_failure"] and heard[0].session_id == browser.session_id


def test_a_failing_hook_never_breaks_the_request(
    make: Callable[..., Harness], kind: Kind, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: SessionEvent) -> None:
        raise RuntimeError("the audit log is down")

    h = make(kind, on_event=broken)
    reply = Browser(h).get("/login?id=u1")
    assert reply.status == 200 and reply.cookie() is not None
    assert any("on_event hook failed" in r.getMessage() for r in caplog.records)


def test_an_async_hook_is_awaited_under_asgi(clock: FakeClock) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from session_middleware import SessionMiddleware

    heard: list[str] = []

    async def hook(event: SessionEvent) -> None:
        heard.append(event.kind)

    async def login(request: Request) -> JSONResponse:
        request.session.login({"id": "u1"})  # type: ignore[attr-defined]
        return JSONResponse({})

    app = Starlette(routes=[Route("/login", login)])
    app.add_middleware(SessionMiddleware, secret_key="k" * 32, store=MemoryStore(clock=clock), on_event=hook)

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as client:
            await client.get("/login")

    import asyncio

    asyncio.run(run())
    assert heard == ["logged_in"]


def test_on_event_must_be_callable() -> None:
    from session_middleware import SessionMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None: ...

    with pytest.raises(TypeError, match="on_event"):
        SessionMiddleware(app, secret_key="k" * 32, on_event="audit")


def test_sessions_the_cap_closes_are_heard_as_evicted(
    make: Callable[..., Harness], kind: Kind, heard: list[SessionEvent]
) -> None:
    h = make(kind, on_event=heard.append, max_sessions_per_user=2, touch_interval=0)
    phone, laptop, tablet = Browser(h), Browser(h), Browser(h)
    phone.get("/login?id=u1")
    h.clock.advance(10)
    laptop.get("/login?id=u1")
    h.clock.advance(10)
    laptop.get("/")  # the phone is now the least recently used
    heard.clear()
    tablet.get("/login?id=u1")
    assert _kinds(heard) == [("logged_in", None), ("closed", "evicted")]
    assert heard[1].session_id == phone.session_id and heard[1].user_id == "u1"
    assert phone.get("/").json()["is_new"] is True  # it really was closed


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_the_api_reports_what_its_cap_closes(kind: str, clock: FakeClock) -> None:
    from sessions_api import create_asgi_app, create_wsgi_app

    heard: list[SessionEvent] = []
    store = MemoryStore(clock=clock)
    options: dict[str, Any] = {"api_token": TOKEN, "max_sessions_per_user": 1, "on_event": heard.append}
    if kind == "asgi":
        transport: Any = httpx.ASGITransport(create_asgi_app(store, **options))
    else:
        transport = httpx.WSGITransport(create_wsgi_app(store, **options))
    body = {"user": {"id": "u1"}, "address": "10.0.0.9", "client": "back office"}
    admin = {"authorization": f"Bearer {TOKEN}"}

    async def call() -> list[httpx.Response]:
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            first = await client.post("/", json=body, headers=admin)
            clock.advance(1)
            second = await client.post("/", json={**body, "client": "phone"}, headers=admin)
            return [first, second]

    if kind == "asgi":
        import asyncio

        first, second = asyncio.run(call())
    else:
        with httpx.Client(transport=transport, base_url="http://api") as client:
            first = client.post("/", json=body, headers=admin)
            clock.advance(1)
            second = client.post("/", json={**body, "client": "phone"}, headers=admin)
    assert (first.status_code, second.status_code) == (201, 201)
    assert _kinds(heard) == [("logged_in", None), ("logged_in", None), ("closed", "evicted")]
    assert heard[2].session_id == first.json()["id"] and heard[1].session_id == second.json()["id"]
