"""Starlette with sessions: ``request.session`` is the tracked session.

Run it: ``uvicorn examples.starlette_app:app --port 8000``. The REST API is at ``/sessions``.
"""

from __future__ import annotations

import os
import secrets

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from session_middleware import SessionMiddleware
from session_middleware.integrations.starlette import get_session

SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)


async def home(request: Request) -> Response:
    request.session["visits"] = request.session.get("visits", 0) + 1  # a plain mapping, as usual
    return JSONResponse({"user": get_session(request).user, "visits": request.session["visits"]})


async def login(request: Request) -> Response:
    name = request.query_params.get("name", "guest")
    session = get_session(request)  # typed: login(), logout(), user, opened...
    session.login({"id": name.lower(), "name": name})
    return JSONResponse({"user": session.user})


async def logout(request: Request) -> Response:
    get_session(request).logout()
    return JSONResponse({"user": None})


app = Starlette(
    routes=[
        Route("/", home),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
    ]
)
app.add_middleware(SessionMiddleware, secret_key=SECRET_KEY, api_path="/sessions")
