"""FastAPI handlers get the Session through SessionDep / UserDep."""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, WebSocket

from session_middleware import Session, SessionMiddleware
from session_middleware.integrations.fastapi import SessionDep, UserDep

SECRET = "integration-tests-secret-key-0123456789abcdef"


def make_app(with_middleware: bool = True) -> FastAPI:
    app = FastAPI()
    if with_middleware:
        app.add_middleware(SessionMiddleware, secret_key=SECRET)

    @app.get("/")
    async def show(session: SessionDep) -> dict[str, Any]:
        assert isinstance(session, Session)
        session["hits"] = session.get("hits", 0) + 1
        return {"hits": session["hits"], "user": session.user}

    @app.post("/login")
    def login(session: SessionDep, name: str) -> dict[str, Any]:  # a sync handler gets it too
        session.login({"id": name.lower(), "name": name})
        return {"ok": True}

    @app.get("/me")
    async def me(user: UserDep) -> dict[str, Any]:
        return user

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, session: SessionDep) -> None:
        await websocket.accept()
        await websocket.send_json({"user": session.user, "hits": session.get("hits")})
        await websocket.close()

    return app


def test_session_dependency_reads_and_writes_the_session() -> None:
    asyncio.run(_session_dependency())


async def _session_dependency() -> None:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        assert (await client.get("/")).json() == {"hits": 1, "user": None}
        assert (await client.get("/")).json() == {"hits": 2, "user": None}
        assert (await client.get("/me")).status_code == 401
        await client.post("/login", params={"name": "Ada"})
        assert (await client.get("/me")).json() == {"id": "ada", "name": "Ada"}
        assert (await client.get("/")).json() == {"hits": 3, "user": {"id": "ada", "name": "Ada"}}


def test_websocket_handlers_see_the_signed_in_session() -> None:
    asyncio.run(_websocket())


async def _websocket() -> None:
    app = make_app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        await client.get("/")
        await client.post("/login", params={"name": "Ada"})
        cookie = f"session={client.cookies['session']}"
    incoming: list[MutableMapping[str, Any]] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> MutableMapping[str, Any]:
        return incoming.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message)

    scope: MutableMapping[str, Any] = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "scheme": "ws",
        "path": "/ws",
        "raw_path": b"/ws",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), (b"cookie", cookie.encode())],
        "client": ("127.0.0.1", 5000),
        "server": ("test", 80),
        "subprotocols": [],
    }
    await app(scope, receive, send)
    texts = [json.loads(m["text"]) for m in sent if m["type"] == "websocket.send"]
    assert texts == [{"user": {"id": "ada", "name": "Ada"}, "hits": 1}]


def test_without_the_middleware_the_dependency_says_what_is_missing() -> None:
    async def call() -> None:
        transport = httpx.ASGITransport(app=make_app(with_middleware=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            await client.get("/")

    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        asyncio.run(call())
