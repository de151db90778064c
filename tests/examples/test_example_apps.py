"""Every example in examples/ runs and behaves as its docstring says."""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ASGI_EXAMPLES = ["examples.raw_asgi", "examples.starlette_app", "examples.fastapi_app"]
WSGI_EXAMPLES = ["examples.raw_wsgi", "examples.flask_app"]

Call = Callable[[str, str], Awaitable[httpx.Response]]


def fresh(name: str) -> ModuleType:
    """The example module re-imported, so each test starts with an empty memory store."""
    return importlib.reload(importlib.import_module(name))


async def scenario(call: Call, extra: dict[str, Any] | None = None) -> None:
    """What every example promises: a visit counter, sign in, the REST API, sign out.

    ``extra``: more keys the example returns from ``GET /`` right after signing in.
    """
    assert (await call("GET", "/")).json()["visits"] == 1
    assert (await call("GET", "/")).json()["visits"] == 2
    login = await call("POST", "/login?name=Ada")
    assert login.json()["user"] == {"id": "ada", "name": "Ada"}
    assert (await call("GET", "/")).json() == {**(extra or {}), "user": {"id": "ada", "name": "Ada"}, "visits": 3}
    # The REST API is mounted at /sessions: a signed-in browser may list its own user's sessions.
    listed = await call("GET", "/sessions/ada")
    assert listed.status_code == 200, listed.text
    [mine] = listed.json()
    assert mine["user"] == {"id": "ada", "name": "Ada"}
    assert not mine.get("data")  # a browser's own listing never shows session data
    assert (await call("GET", "/sessions/someone-else")).status_code in (401, 403)
    await call("POST", "/logout")
    assert (await call("GET", "/")).json()["user"] is None
    assert (await call("GET", "/sessions/ada")).status_code == 401


@pytest.mark.parametrize("name", ASGI_EXAMPLES)
def test_asgi_example(name: str) -> None:
    app = fresh(name).app

    async def run() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://example") as client:

            async def call(method: str, url: str) -> httpx.Response:
                return await client.request(method, url)

            await scenario(call)

    asyncio.run(run())


@pytest.mark.parametrize("name", WSGI_EXAMPLES)
def test_wsgi_example(name: str) -> None:
    app = fresh(name).app
    client = httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://example")

    async def call(method: str, url: str) -> httpx.Response:
        return client.request(method, url)

    # The Flask example also shows its flashed messages (kept in the session).
    extra = {"messages": ["Welcome, Ada!"]} if name == "examples.flask_app" else None
    asyncio.run(scenario(call, extra))


def test_raw_asgi_example_passes_lifespan_through_the_middleware() -> None:
    app = fresh("examples.raw_asgi").app
    incoming = iter([{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    sent: list[str] = []

    async def receive() -> dict[str, Any]:
        return next(incoming)

    async def send(message: Any) -> None:
        sent.append(message["type"])

    asyncio.run(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send))
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_raw_wsgi_example_serves_itself() -> None:
    port = free_port()
    env = {**os.environ, "PORT": str(port), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "examples.raw_wsgi"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
                assert time.monotonic() < deadline, "the example server did not start"
                time.sleep(0.05)
        assert response.json() == {"user": None, "visits": 1}
        assert response.headers["set-cookie"].startswith("session=")
    finally:
        server.terminate()
        server.wait(timeout=10)
