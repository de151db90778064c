"""Framework idioms the scenario suite does not reach: FastAPI, and each framework's own
error handling and streaming, driven with each framework's usual test client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import flask
import httpx
import pytest
from fastapi import FastAPI, HTTPException, Request
from starlette.applications import Starlette
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from session_middleware import MemoryStore, Session, SessionMiddleware, WSGISessionMiddleware

from .support import KEY, FakeClock, SpyStore


@pytest.fixture
def spy(clock: FakeClock) -> SpyStore:
    return SpyStore(MemoryStore(clock=clock))


def stored_data(spy: SpyStore) -> list[dict[str, Any]]:
    return [r.decoded_data() for r in spy.all_records()]


def drive(app: Any, *requests: tuple[str, str]) -> list[httpx.Response]:
    """Requests in order through one ``httpx.AsyncClient`` (its cookie jar plays the browser)."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return [await client.request(method, url) for method, url in requests]

    return asyncio.run(run())


# -- FastAPI ---------------------------------------------------------------------------


def fastapi_app(spy: SpyStore) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=spy)

    @app.get("/visit")
    async def visit(request: Request) -> dict[str, int]:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return {"visits": request.session["visits"]}

    @app.post("/login/{user_id}")
    def login(user_id: str, request: Request) -> dict[str, Any]:  # a sync handler: runs in a thread
        session: Session = request.session  # type: ignore[assignment]
        session.login({"id": user_id})
        return {"user": session.user}

    @app.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        user = request.session.user  # type: ignore[attr-defined]
        if user is None:
            raise HTTPException(401, "not signed in")
        return user  # type: ignore[no-any-return]

    @app.post("/logout")
    async def logout(request: Request) -> None:
        request.session.logout()  # type: ignore[attr-defined]

    @app.get("/fail/{status}")
    async def fail(status: int, request: Request) -> None:
        request.session["failed"] = status
        raise HTTPException(status)

    return app


def test_fastapi_counts_visits_with_one_cookie(spy: SpyStore) -> None:
    replies = drive(fastapi_app(spy), *[("GET", "/visit")] * 3)
    assert [r.json()["visits"] for r in replies] == [1, 2, 3]
    assert [len(r.headers.get_list("set-cookie")) for r in replies] == [1, 0, 0]
    assert stored_data(spy) == [{"visits": 3}]


def test_fastapi_login_me_logout(spy: SpyStore) -> None:
    replies = drive(
        fastapi_app(spy),
        ("GET", "/me"),
        ("POST", "/login/u1"),
        ("GET", "/me"),
        ("POST", "/logout"),
        ("GET", "/me"),
    )
    assert [r.status_code for r in replies] == [401, 200, 200, 200, 401]
    assert replies[0].headers.get_list("set-cookie") == []  # a 401 for a stranger stores nothing
    assert replies[2].json() == {"id": "u1"}
    assert "Max-Age=0" in replies[3].headers["set-cookie"]
    assert spy.all_records() == []


@pytest.mark.parametrize(("status", "saved"), [(400, True), (404, True), (500, False), (503, False)])
def test_fastapi_http_exceptions(spy: SpyStore, status: int, saved: bool) -> None:
    replies = drive(fastapi_app(spy), ("GET", "/visit"), ("GET", f"/fail/{status}"))
    assert replies[1].status_code == status
    assert stored_data(spy) == [{"visits": 1, "failed": status} if saved else {"visits": 1}]


# -- Starlette -------------------------------------------------------------------------


def test_starlette_request_session_is_the_session(spy: SpyStore) -> None:
    seen: list[bool] = []

    async def endpoint(request: StarletteRequest) -> Response:
        seen.append(isinstance(request.session, Session) and request.session is request.scope["session"])
        return Response()

    app = Starlette(routes=[Route("/", endpoint)])
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=spy)
    drive(app, ("GET", "/"))
    assert seen == [True]


def test_starlette_exception_handlers_and_streaming(spy: SpyStore) -> None:
    async def missing(request: StarletteRequest) -> Response:
        request.session["looked"] = True
        raise StarletteHTTPException(404)

    async def crash(request: StarletteRequest) -> Response:
        request.session["crashed"] = True
        raise RuntimeError("bug")

    async def stream(request: StarletteRequest) -> Response:
        request.session["streamed"] = True

        async def body() -> Any:
            for part in (b"a", b"b"):
                yield part

        return StreamingResponse(body())

    async def handler(request: StarletteRequest, exc: Exception) -> Response:
        return JSONResponse({"error": "custom"}, status_code=404)

    app = Starlette(
        routes=[Route("/missing", missing), Route("/crash", crash), Route("/stream", stream)],
        exception_handlers={404: handler},
    )
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=spy)
    replies = drive(app, ("GET", "/stream"), ("GET", "/missing"), ("GET", "/crash"))
    assert [r.status_code for r in replies] == [200, 404, 500]
    assert replies[0].text == "ab" and replies[1].json() == {"error": "custom"}
    assert stored_data(spy) == [{"streamed": True, "looked": True}]


# -- Flask -----------------------------------------------------------------------------


def flask_app(spy: SpyStore) -> flask.Flask:
    app = flask.Flask(__name__)

    def session() -> Session:
        return flask.request.environ["session"]  # type: ignore[no-any-return]

    @app.post("/login/<user_id>")
    def login(user_id: str) -> Any:
        session().login({"id": user_id})
        return {"user": session().user}

    @app.get("/abort/<int:status>")
    def abort(status: int) -> Any:
        session()["aborted"] = status
        flask.abort(status)

    @app.get("/crash")
    def crash() -> Any:
        session()["crashed"] = True
        raise RuntimeError("bug")

    @app.get("/stream")
    def stream() -> Any:
        session()["streamed"] = True

        def generate() -> Iterator[str]:
            yield "a"
            yield "b"

        return flask.Response(generate())

    @app.errorhandler(404)
    def not_found(error: Exception) -> Any:
        return {"error": "custom"}, 404

    app.wsgi_app = WSGISessionMiddleware(app.wsgi_app, secret_key=KEY, store=spy)  # type: ignore[method-assign]
    return app


def test_flask_error_paths_and_streaming(spy: SpyStore) -> None:
    client = flask_app(spy).test_client()
    assert client.post("/login/u1").json == {"user": {"id": "u1"}}
    streamed = client.get("/stream")
    assert streamed.status_code == 200 and streamed.data == b"ab"
    assert client.get("/abort/404").json == {"error": "custom"}
    assert client.get("/abort/500").status_code == 500
    assert client.get("/crash").status_code == 500
    (record,) = spy.all_records()
    assert record.user == {"id": "u1"}
    assert record.decoded_data() == {"streamed": True, "aborted": 404}


def test_flask_test_client_keeps_the_session_across_requests(spy: SpyStore) -> None:
    client = flask_app(spy).test_client()
    login = client.post("/login/u1")
    cookie = client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    assert "Cookie" in login.headers["Vary"] and login.headers["Cache-Control"] == "no-store"
    assert client.post("/login/u2").json == {"user": {"id": "u2"}}
    assert [r.user for r in spy.all_records()] == [{"id": "u2"}]
