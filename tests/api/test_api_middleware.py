"""The API as the session middleware mounts it, in a Starlette app and in a Flask app.

Browsers are httpx clients with cookie jars and distinct User-Agents ("devices"); the
admin is a client with the bearer token. The middleware and the API share one store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import flask
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from session_middleware import MemoryStore, Session, SessionMiddleware, WSGISessionMiddleware

from .support import ADMIN, BASE, TOKEN, FakeClock, SyncASGITransport

KEY = "api-suite-secret-key-0123456789-abcdefghijklmnop"


def _starlette(store: MemoryStore, **options: Any) -> Any:
    async def login(request: Request) -> JSONResponse:
        request.session.login({"id": request.query_params["user"]})  # type: ignore[attr-defined]
        request.session["note"] = "hello"
        return JSONResponse({"ok": True})

    async def whoami(request: Request) -> JSONResponse:
        session: Session = request.session  # type: ignore[assignment]
        return JSONResponse({"user": session.user_id, "id": None if session.is_new else session.id, **session})

    app = Starlette(routes=[Route("/login", login, methods=["POST"]), Route("/whoami", whoami)])
    options = {"api_path": "/sessions", **options}
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=store, api_token=TOKEN, **options)  # type: ignore[arg-type]
    return app


def _flask(store: MemoryStore, **options: Any) -> Any:
    app = flask.Flask(__name__)

    def session() -> Session:
        return flask.request.environ["session"]  # type: ignore[no-any-return]

    @app.post("/login")
    def login() -> Any:
        session().login({"id": flask.request.args["user"]})
        session()["note"] = "hello"
        return {"ok": True}

    @app.get("/whoami")
    def whoami() -> Any:
        s = session()
        return {"user": s.user_id, "id": None if s.is_new else s.id, **s}

    app.wsgi_app = WSGISessionMiddleware(  # type: ignore[method-assign]
        app.wsgi_app, secret_key=KEY, store=store, api_token=TOKEN, **{"api_path": "/sessions", **options}
    )
    return app


@pytest.fixture(params=["starlette", "flask"])
def browsers(request: pytest.FixtureRequest) -> Iterator[Callable[..., httpx.Client]]:
    clock = FakeClock()
    store = MemoryStore(clock=clock)
    build = _starlette if request.param == "starlette" else _flask
    apps: dict[str, Any] = {}
    clients: list[httpx.Client] = []

    def browser(agent: str = "admin-tool", **options: Any) -> httpx.Client:
        key = repr(sorted(options.items()))
        if key not in apps:
            apps[key] = build(store, **options)
        app = apps[key]
        if request.param == "starlette":
            transport: httpx.BaseTransport = SyncASGITransport(app)
        else:
            transport = httpx.WSGITransport(app=app)
        client = httpx.Client(transport=transport, base_url=BASE, headers={"User-Agent": agent})
        clients.append(client)
        return client

    browser.clock = clock  # type: ignore[attr-defined]
    yield browser
    for client in clients:
        client.close()


def _sign_in(client: httpx.Client, user: str) -> str:
    assert client.post("/login", params={"user": user}).status_code == 200
    me = client.get("/whoami").json()
    assert me["user"] == user
    return str(me["id"])


def test_a_user_lists_their_devices_without_data_and_signs_one_out(browsers: Callable[..., httpx.Client]) -> None:
    laptop, phone = browsers("laptop"), browsers("phone")
    laptop_id, phone_id = _sign_in(laptop, "alice"), _sign_in(phone, "alice")

    devices = laptop.get("/sessions/alice")
    assert devices.status_code == 200
    assert {(d["id"], d["client"]) for d in devices.json()} == {(laptop_id, "laptop"), (phone_id, "phone")}
    assert all("data" not in d for d in devices.json())

    closed = laptop.delete("/sessions/alice", params={"session_id": phone_id}, headers={"Origin": BASE})
    assert closed.status_code == 204
    assert phone.get("/whoami").json()["user"] is None  # the very next request is anonymous
    assert laptop.get("/whoami").json()["user"] == "alice"
    assert [d["id"] for d in laptop.get("/sessions/alice").json()] == [laptop_id]


def test_the_admin_revokes_and_the_users_next_request_is_anonymous(browsers: Callable[..., httpx.Client]) -> None:
    phone, admin = browsers("phone"), browsers()
    phone_id = _sign_in(phone, "alice")
    listed = admin.get("/sessions/alice", headers=ADMIN).json()
    assert [(d["id"], d["data"]) for d in listed] == [(phone_id, {"note": "hello"})]

    assert admin.delete("/sessions/alice", params={"session_id": phone_id}, headers=ADMIN).status_code == 204
    response = phone.get("/whoami")
    assert response.json()["user"] is None
    assert "session=;" in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]


def test_data_written_through_the_api_is_what_the_app_reads_next(browsers: Callable[..., httpx.Client]) -> None:
    phone, admin = browsers("phone"), browsers()
    phone_id = _sign_in(phone, "alice")
    response = admin.post(
        "/sessions/alice", params={"session_id": phone_id}, json={"data": {"theme": "dark"}}, headers=ADMIN
    )
    assert response.status_code == 204
    assert phone.get("/whoami").json() == {"user": "alice", "id": phone_id, "theme": "dark"}


def test_a_user_may_not_touch_anyone_else_or_write(browsers: Callable[..., httpx.Client]) -> None:
    alice, bob, anonymous = browsers("alice-laptop"), browsers("bob-laptop"), browsers("nobody")
    alice_id = _sign_in(alice, "alice")
    _sign_in(bob, "bob")
    assert bob.get("/sessions/alice").status_code == 403
    assert bob.delete("/sessions/alice", params={"session_id": alice_id}).status_code == 403
    assert anonymous.get("/sessions/alice").status_code == 401
    forbidden = alice.post("/sessions/alice", params={"session_id": alice_id}, json={"data": {}})
    assert forbidden.status_code == 403
    opened = alice.post("/sessions", json={"user": {"id": "alice"}, "address": "1.1.1.1", "client": "x"})
    assert opened.status_code == 403
    cross_site = alice.delete(
        "/sessions/alice", params={"session_id": alice_id}, headers={"Origin": "https://evil.example"}
    )
    assert cross_site.status_code == 403
    assert alice.get("/whoami").json()["user"] == "alice"


def test_signing_out_the_current_device_through_the_api(browsers: Callable[..., httpx.Client]) -> None:
    laptop = browsers("laptop")
    laptop_id = _sign_in(laptop, "alice")
    assert laptop.delete("/sessions/alice", params={"session_id": laptop_id}).status_code == 204
    assert laptop.get("/whoami").json()["user"] is None


def test_a_custom_api_path_and_no_api(browsers: Callable[..., httpx.Client]) -> None:
    custom, none = browsers(api_path="/admin/sessions"), browsers(api_path=None)
    assert custom.get("/admin/sessions/alice", headers=ADMIN).json() == []
    assert none.get("/sessions/alice", headers=ADMIN).status_code == 404


def test_the_mounted_api_uses_the_middlewares_timeouts_and_cap(browsers: Callable[..., httpx.Client]) -> None:
    admin = browsers(idle_timeout=120, max_sessions_per_user=1)
    body = {"user": {"id": "carol"}, "address": "10.0.0.1", "client": "one"}
    first = admin.post("/sessions", json=body, headers=ADMIN).json()
    second = admin.post("/sessions", json={**body, "client": "two"}, headers=ADMIN).json()
    assert [d["id"] for d in admin.get("/sessions/carol", headers=ADMIN).json()] == [second["id"]]
    assert first["id"] != second["id"]
    browsers.clock.tick(121)  # type: ignore[attr-defined]
    assert admin.get("/sessions/carol", headers=ADMIN).json() == []
