"""A plain ASGI callable with sessions: no framework at all.

Run it: ``uvicorn examples.raw_asgi:app --port 8000``, then ``curl -c jar -b jar localhost:8000/``.
``POST /login?name=Ada`` signs in, ``POST /logout`` signs out; the REST API is at ``/sessions``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import parse_qs

from session_middleware import Session, SessionMiddleware

SECRET_KEY = os.environ.get("SESSION_SECRET_KEY") or secrets.token_urlsafe(48)


async def inner(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":  # the middleware passes it through untouched
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return  # no websockets here (they would find scope["session"] too)
    session: Session = scope["session"]
    method, path = scope["method"], scope["path"]
    if method == "POST" and path == "/login":
        name = parse_qs(scope["query_string"].decode()).get("name", ["guest"])[0]
        session.login({"id": name.lower(), "name": name})
    elif method == "POST" and path == "/logout":
        session.logout()
    elif path == "/":
        session["visits"] = session.get("visits", 0) + 1
    else:
        await _json(send, 404, {"error": "not found"})
        return
    await _json(send, 200, {"user": session.user, "visits": session.get("visits", 0)})


async def _lifespan(receive: Any, send: Any) -> None:
    """Start-up and shutdown: open and close what the app needs (nothing, here)."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _json(send: Any, status: int, body: object) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": data})


app = SessionMiddleware(inner, secret_key=SECRET_KEY, api_path="/sessions")
