"""get_session(request) is request.session, typed, and explains a missing middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from session_middleware import SessionMiddleware
from session_middleware.integrations.starlette import get_session

SECRET = "integration-tests-secret-key-0123456789abcdef"


async def view(request: Request) -> JSONResponse:
    session = get_session(request)
    same = session is request.session
    if request.method == "POST":
        session.login({"id": "ada"})
    return JSONResponse({"same": same, "user": session.user, "new": session.is_new})


def test_get_session_is_request_session() -> None:
    app = Starlette(routes=[Route("/", view, methods=["GET", "POST"])])
    app.add_middleware(SessionMiddleware, secret_key=SECRET)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            assert (await client.get("/")).json() == {"same": True, "user": None, "new": True}
            await client.post("/")
            assert (await client.get("/")).json() == {"same": True, "user": {"id": "ada"}, "new": False}

    asyncio.run(scenario())


@pytest.mark.parametrize("scope", [{}, {"session": {"a dict": "from another middleware"}}])
def test_get_session_refuses_anything_but_a_tracked_session(scope: dict[str, Any]) -> None:
    class Connection:
        def __init__(self) -> None:
            self.scope = scope

    with pytest.raises(RuntimeError, match="SessionMiddleware"):
        get_session(Connection())
