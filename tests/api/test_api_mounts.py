"""The sub-apps under the mounts users reach for: Starlette, FastAPI, Werkzeug, Flask, raw."""

from __future__ import annotations

import asyncio
from typing import Any

import flask
import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Mount, Route
from werkzeug.exceptions import NotFound
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from session_middleware import MemoryStore
from sessions_api import create_asgi_app, create_wsgi_app

from .support import ADMIN, TOKEN, sync_client

OPEN = {"user": {"id": "alice"}, "address": "10.0.0.1", "client": "c"}


def _exercise(client: httpx.Client, prefix: str) -> None:
    """Open, list, get, update and close through ``prefix``: the protocol works there."""
    opened = client.post(f"{prefix}/", json=OPEN, headers=ADMIN)
    assert opened.status_code == 201, opened.text
    sid = opened.json()["id"]
    assert [s["id"] for s in client.get(f"{prefix}/alice", headers=ADMIN).json()] == [sid]
    assert client.get(f"{prefix}/alice", params={"session_id": sid}, headers=ADMIN).json()["id"] == sid
    update = client.post(f"{prefix}/alice", params={"session_id": sid}, json={"data": {"a": 1}}, headers=ADMIN)
    assert update.status_code == 204
    assert client.delete(f"{prefix}/alice", params={"session_id": sid}, headers=ADMIN).status_code == 204
    assert client.get(f"{prefix}/alice", headers=ADMIN).json() == []
    assert client.put(f"{prefix}/alice", headers=ADMIN).status_code == 405


async def _home(request: Any) -> PlainTextResponse:
    return PlainTextResponse("home")


def test_starlette_mount() -> None:
    api = create_asgi_app(MemoryStore(), api_token=TOKEN)
    app = Starlette(routes=[Route("/", _home), Mount("/sessions", api)])
    with sync_client(app) as client:
        _exercise(client, "/sessions")
        assert client.get("/").text == "home"


def test_nested_starlette_mounts() -> None:
    api = create_asgi_app(MemoryStore(), api_token=TOKEN)
    app = Starlette(routes=[Mount("/admin", routes=[Mount("/sessions", api)])])
    with sync_client(app) as client:
        _exercise(client, "/admin/sessions")


def test_fastapi_mount() -> None:
    app = FastAPI()

    @app.get("/hello")
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    app.mount("/sessions", create_asgi_app(MemoryStore(), api_token=TOKEN))
    with sync_client(app) as client:
        _exercise(client, "/sessions")
        assert client.get("/hello").json() == {"hello": "world"}


@pytest.mark.parametrize("include_root_in_path", [True, False])
def test_raw_asgi_root_path_with_or_without_the_mount_in_path(include_root_in_path: bool) -> None:
    api = create_asgi_app(MemoryStore(), api_token=TOKEN)
    seen: list[str] = []

    async def server_like(scope: dict[str, Any], receive: Any, send: Any) -> None:
        # Some servers keep root_path inside path (the ASGI spec), older ones strip it.
        scope = dict(scope, root_path="/svc/sessions")
        if not include_root_in_path:
            scope["path"] = scope["path"].removeprefix("/svc/sessions")
        seen.append(scope["path"])
        await api(scope, receive, send)

    with sync_client(server_like) as client:
        _exercise(client, "/svc/sessions")
    assert seen[0] == ("/svc/sessions/" if include_root_in_path else "/")


def test_asgi_mount_at_a_prefix_that_starts_like_the_user_id() -> None:
    api = create_asgi_app(MemoryStore(), api_token=TOKEN)
    app = Starlette(routes=[Mount("/s", api)])
    with sync_client(app) as client:
        client.post("/s/", json={**OPEN, "user": {"id": "sessions"}}, headers=ADMIN)
        assert [s["user"]["id"] for s in client.get("/s/sessions", headers=ADMIN).json()] == ["sessions"]


def test_asgi_refuses_websockets_and_handles_lifespan() -> None:
    api = create_asgi_app(MemoryStore(), api_token=TOKEN)
    sent: list[dict[str, Any]] = []

    async def run() -> None:
        messages = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])

        async def receive() -> dict[str, Any]:
            return next(messages)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await api({"type": "lifespan"}, receive, send)
        await api({"type": "websocket", "path": "/x", "headers": []}, receive, send)

    asyncio.run(run())
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete", "websocket.close"]


def test_werkzeug_dispatcher_nested_prefix() -> None:
    api = create_wsgi_app(MemoryStore(), api_token=TOKEN)
    app = DispatcherMiddleware(NotFound(), {"/admin/sessions": api})
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
        _exercise(client, "/admin/sessions")


def test_flask_with_dispatcher_middleware() -> None:
    flask_app = flask.Flask(__name__)

    @flask_app.get("/")
    def home() -> str:
        return "home"

    flask_app.wsgi_app = DispatcherMiddleware(  # type: ignore[method-assign]
        flask_app.wsgi_app, {"/sessions": create_wsgi_app(MemoryStore(), api_token=TOKEN)}
    )
    with httpx.Client(transport=httpx.WSGITransport(app=flask_app), base_url="http://testserver") as client:
        _exercise(client, "/sessions")
        assert client.get("/").text == "home"


def test_wsgi_non_ascii_user_ids_round_trip() -> None:
    api = create_wsgi_app(MemoryStore(), api_token=TOKEN)
    app = DispatcherMiddleware(NotFound(), {"/sessions": api})
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://testserver") as client:
        client.post("/sessions/", json={**OPEN, "user": {"id": "zoë 日本"}}, headers=ADMIN)
        listed = client.get("/sessions/zoë 日本", headers=ADMIN).json()
    assert [s["user"]["id"] for s in listed] == ["zoë 日本"]
