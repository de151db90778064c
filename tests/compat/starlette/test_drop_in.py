"""What apps do with Starlette's request.session and constructor, beyond Starlette's tests."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from session_middleware import MemoryStore, SessionMiddleware

from .conftest import Backend
from .support import ROUTES, SECRET, ClientFactory, session_app, set_cookies, the_set_cookie, vary


def test_reading_a_session_varies_the_response_by_cookie(client_factory: ClientFactory) -> None:
    client = client_factory(session_app())
    client.post("/update_session", json={"some": "data"})
    response = client.get("/view_session")
    assert response.json() == {"session": {"some": "data"}}
    assert set_cookies(response) == []  # a read sends no cookie...
    assert "cookie" in vary(response)  # ...but caches must still key on it


def test_a_route_that_never_touches_the_session_does_not_vary(client_factory: ClientFactory) -> None:
    client = client_factory(session_app())
    client.post("/update_session", json={"some": "data"})
    response = client.get("/no_session")
    assert response.text == "no session used"
    assert "cookie" not in vary(response) and set_cookies(response) == []


def test_vary_merges_with_the_apps_own(client_factory: ClientFactory) -> None:
    def view(request: Request) -> Response:
        return JSONResponse(dict(request.session), headers={"Vary": "Accept-Encoding"})

    client = client_factory(session_app(routes=[Route("/", view)]))
    assert vary(client.get("/")) == ["accept-encoding", "cookie"]


async def dict_habits(request: Request) -> Response:
    session = request.session
    assert isinstance(session, dict)
    session |= {"merged": True}
    session.setdefault("cart", []).append("apple")
    snapshot = session.copy()
    snapshot["not saved"] = 1
    deep = copy.deepcopy(session)
    deep["cart"].append("not saved either")
    plain = dict(session)
    assert json.loads(json.dumps(session)) == plain == {"merged": True, "cart": ["apple"]}
    assert type(snapshot) is dict and "not saved" not in session and session["cart"] == ["apple"]
    assert {**session} == plain and list(session) == ["merged", "cart"] and len(session) == 2
    return JSONResponse(request.session)


def test_request_session_is_a_dict_to_the_app(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(routes=[Route("/habits", dict_habits), *ROUTES]))
    response = client.get("/habits")
    assert response.json() == {"merged": True, "cart": ["apple"]}
    assert client.get("/view_session").json() == {"session": {"merged": True, "cart": ["apple"]}}


def test_a_nested_change_is_saved(client_factory: ClientFactory) -> None:
    async def add(request: Request) -> Response:
        request.session.setdefault("cart", []).append(request.query_params["item"])
        return PlainTextResponse("ok")

    client = client_factory(session_app(routes=[Route("/add", add), *ROUTES]))
    client.get("/add?item=a")
    client.get("/add?item=b")
    assert client.get("/view_session").json() == {"session": {"cart": ["a", "b"]}}


def test_a_short_key_works_and_warns_once(client_factory: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="session_middleware.security")
    client = client_factory(session_app(secret_key="example"))
    client.post("/update_session", json={"some": "data"})
    assert client.get("/view_session").json() == {"session": {"some": "data"}}
    warnings = [r for r in caplog.records if r.name == "session_middleware.security"]
    assert len(warnings) == 1
    assert "7 bytes" in warnings[0].getMessage() and "secrets.token_urlsafe(48)" in warnings[0].getMessage()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rolling": True}, "sessions always slide: see idle_timeout"),
        ({"lifetime": 3600}, "idle_timeout"),
        ({"cookie_https_only": True}, "cookie_secure"),
        ({"session_cokie": "sid"}, "did you mean 'session_cookie'"),
        ({"max_age": 60, "cookie_max_age": 60}, "same option"),
    ],
)
def test_a_wrong_option_fails_at_startup_with_a_hint(
    anyio_backend: Backend, options: dict[str, Any], message: str
) -> None:
    app = Starlette(routes=ROUTES)
    app.add_middleware(SessionMiddleware, secret_key=SECRET, **options)
    with pytest.raises(TypeError, match=message):
        with TestClient(app, backend=anyio_backend):
            pass


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ("redis://localhost:6379/0", "not the string 'redis://...'"),
        (MemoryStore, "not the class MemoryStore"),
    ],
)
def test_a_store_that_is_not_one_fails_at_construction(anyio_backend: Backend, store: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message) as raised:
        SessionMiddleware(Starlette(), secret_key=SECRET, store=store)
    assert "store=MemoryStore()" in str(raised.value) and "RedisStore(" in str(raised.value)
    app = Starlette(routes=ROUTES)
    app.add_middleware(SessionMiddleware, secret_key=SECRET, store=store)
    with pytest.raises(TypeError, match=message):
        with TestClient(app, backend=anyio_backend):
            pass


def test_more_than_one_positional_argument_fails(anyio_backend: Backend) -> None:
    with pytest.raises(TypeError, match="at most one positional argument"):
        SessionMiddleware(Starlette(), SECRET, "session")


def test_another_apps_cookie_outside_the_path_is_left_alone(client_factory: ClientFactory) -> None:
    # Another app on this host uses "session" at "/": this one, at "/admin", must not clear it.
    app = session_app(path="/admin")
    client = client_factory(app, cookies={"session": "the-other-apps-cookie-value"})
    response = client.get("/view_session")
    assert response.json() == {"session": {}}
    assert set_cookies(response) == []
    assert "session" in client.cookies  # still there for the other app


def test_a_stranger_cookie_inside_the_path_is_no_session(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(), cookies={"session": "garbage"})
    response = client.get("/view_session")
    assert response.status_code == 200 and response.json() == {"session": {}}
    client.post("/update_session", json={"a": 1})
    assert client.get("/view_session").json() == {"session": {"a": 1}}


def own_sessions_route(request: Request) -> Response:
    return JSONResponse({"the app's own": "sessions page"})


def test_the_rest_api_is_not_mounted_unless_asked(client_factory: ClientFactory) -> None:
    client = client_factory(session_app(routes=[Route("/sessions", own_sessions_route), *ROUTES]))
    response = client.get("/sessions")
    assert response.status_code == 200 and response.json() == {"the app's own": "sessions page"}
    response = client.get("/sessions/ada")
    assert response.status_code == 404 and response.text == "Not Found"  # the app's router, not the API


def test_the_rest_api_answers_where_it_is_mounted(client_factory: ClientFactory) -> None:
    app = session_app(routes=[Route("/sessions", own_sessions_route), *ROUTES], api_path="/sessions")
    response = client_factory(app).get("/sessions/ada")
    assert response.status_code in (401, 403)  # the API wants credentials
    assert response.json() != {"the app's own": "sessions page"}


def test_a_cleared_session_cookie_carries_the_same_attributes(client_factory: ClientFactory) -> None:
    client = client_factory(
        session_app(path="/", domain="example.com", same_site="strict", https_only=True), base_url="https://example.com"
    )
    set_cookie = the_set_cookie(client.post("/update_session", json={"a": 1}))
    cleared = the_set_cookie(client.post("/clear_session"))
    assert cleared.clears
    for attribute in ("path", "domain", "secure", "httponly"):
        assert cleared.get(attribute) == set_cookie.get(attribute), attribute
    assert cleared.samesite == set_cookie.samesite == "strict"


async def session_over_websocket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_json(dict(websocket.session))
    await websocket.close()


def test_a_websocket_sees_the_session(client_factory: ClientFactory) -> None:
    app = session_app(routes=[WebSocketRoute("/ws", session_over_websocket), *ROUTES])
    client = client_factory(app)
    client.post("/update_session", json={"user": "ada"})
    with client.websocket_connect("/ws") as websocket:
        assert websocket.receive_json() == {"user": "ada"}
