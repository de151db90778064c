"""The id_header option through both adapters: the signed id in a request header, cookie as fallback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import httpx
import pytest
from flask import Flask
from hypothesis import given, settings
from hypothesis import strategies as st

from session_middleware import MemoryStore, SessionMiddleware, WSGISessionMiddleware
from session_middleware.integrations.flask import get_session, init_app

SECRET = "id-header-tests-secret-key-0123456789abcdef"
HEADER = "X-Session-Id"
Send = Callable[..., httpx.Response]


def route(session: Any, method: str, path: str) -> str:
    """The app behind both adapters: login, logout, regenerate, write, or just say who."""
    if path == "/login":
        session.login({"id": "ada"})
    elif path == "/logout":
        session.logout()
    elif path == "/regenerate":
        session.regenerate()
    elif path == "/write":
        session["n"] = session.get("n", 0) + 1
    return str(session.user_id)


def asgi_client(**options: Any) -> Send:
    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        body = route(scope["session"], scope["method"], scope["path"]).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": body})

    middleware = SessionMiddleware(app, secret_key=SECRET, **options)

    def send(method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=middleware)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                return await client.request(method, path, headers=headers)

        return asyncio.run(call())

    return send


def wsgi_client(**options: Any) -> Send:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        body = route(environ["session"], environ["REQUEST_METHOD"], environ["PATH_INFO"]).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]

    middleware = WSGISessionMiddleware(app, secret_key=SECRET, **options)

    def send(method: str, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
        with httpx.Client(transport=httpx.WSGITransport(app=middleware), base_url="http://api.test") as client:
            return client.request(method, path, headers=headers)

    return send


ADAPTERS = [pytest.param(asgi_client, id="asgi"), pytest.param(wsgi_client, id="wsgi")]


def cookie_value(response: httpx.Response) -> str:
    return response.headers["set-cookie"].split(";")[0].partition("=")[2]


@pytest.fixture(params=ADAPTERS)
def make(request: pytest.FixtureRequest) -> Callable[..., Send]:
    factory: Callable[..., Send] = request.param
    return factory


def test_login_returns_the_signed_id_which_then_authenticates_alone(make: Callable[..., Send]) -> None:
    send = make(id_header=HEADER, store=MemoryStore())
    login = send("POST", "/login")
    token = login.headers[HEADER]
    assert token and token == cookie_value(login)  # exactly what the cookie carries
    assert login.headers["cache-control"] == "no-store"
    assert [v.strip() for v in login.headers["vary"].split(",")] == ["Cookie", HEADER]
    assert send("GET", "/", {HEADER: token}).text == "ada"
    quiet = send("GET", "/", {HEADER: token})
    assert HEADER not in quiet.headers and "set-cookie" not in quiet.headers  # nothing changed
    assert send("GET", "/").text == "None"


def test_the_header_wins_and_the_cookie_is_the_fallback(make: Callable[..., Send]) -> None:
    send = make(id_header=HEADER)
    ada = send("POST", "/login").headers[HEADER]
    anonymous = cookie_value(send("POST", "/write"))
    assert send("GET", "/", {HEADER: ada, "Cookie": f"session={anonymous}"}).text == "ada"
    assert send("GET", "/", {"Cookie": f"session={ada}"}).text == "ada"  # no header: the cookie
    assert send("GET", "/", {HEADER: "  ", "Cookie": f"session={ada}"}).text == "ada"  # empty: the cookie


def test_a_changed_id_is_returned_and_the_old_one_dies(make: Callable[..., Send]) -> None:
    send = make(id_header=HEADER)
    first = send("POST", "/login").headers[HEADER]
    second = send("POST", "/regenerate", {HEADER: first}).headers[HEADER]
    assert second and second != first
    assert send("GET", "/", {HEADER: second}).text == "ada"
    assert send("GET", "/", {HEADER: first}).text == "None"


def test_logout_and_dead_ids_answer_an_empty_header(make: Callable[..., Send]) -> None:
    send = make(id_header=HEADER)
    token = send("POST", "/login").headers[HEADER]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    bad = send("GET", "/", {HEADER: tampered})
    assert bad.text == "None" and bad.headers[HEADER] == ""
    bye = send("POST", "/logout", {HEADER: token})
    assert bye.headers[HEADER] == "" and "Max-Age=0" in bye.headers["set-cookie"]
    gone = send("GET", "/", {HEADER: token})
    assert gone.text == "None" and gone.headers[HEADER] == ""


def test_without_the_option_the_header_means_nothing(make: Callable[..., Send]) -> None:
    send = make()
    login = send("POST", "/login")
    assert HEADER not in login.headers
    assert send("GET", "/", {HEADER: cookie_value(login)}).text == "None"


def test_the_rest_api_accepts_the_header_for_own_user_access(make: Callable[..., Send]) -> None:
    send = make(id_header=HEADER, api_path="/sessions")
    token = send("POST", "/login").headers[HEADER]
    listed = send("GET", "/sessions/ada", {HEADER: token})
    assert listed.status_code == 200 and len(listed.json()) == 1
    assert send("GET", "/sessions/ada").status_code == 401


@pytest.mark.parametrize("name", ["Cookie", "set-cookie", "Authorization", "X Session", "", "X-Id:", "é"])
def test_unusable_header_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match="id_header"):
        SessionMiddleware(lambda *a: None, secret_key=SECRET, id_header=name)  # type: ignore[arg-type]


@settings(max_examples=60, deadline=None)
@given(value=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=120))
def test_any_header_value_is_a_session_or_none_never_an_error(value: str) -> None:
    send = wsgi_client(id_header=HEADER)
    response = send("GET", "/", {HEADER: value})
    assert response.status_code == 200 and response.text == "None"


def test_flask_integration_reads_the_header_outside_the_middleware_too() -> None:
    app = Flask(__name__)
    init_app(app, secret_key=SECRET, id_header=HEADER)

    @app.post("/login")
    def login() -> str:
        get_session().login({"id": "grace"})
        return "ok"

    token = app.test_client().post("/login").headers[HEADER]
    with app.test_request_context("/", headers={HEADER: token}):
        assert get_session().user_id == "grace"
    with app.test_client() as client:
        with client.session_transaction(headers={HEADER: token}) as session:
            assert session.user_id == "grace"  # type: ignore[attr-defined]
