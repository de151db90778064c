"""Cookies made by Starlette's own SessionMiddleware (the real one, driven in-process)."""

from __future__ import annotations

import asyncio
import json
from base64 import b64encode
from collections.abc import Mapping
from typing import Any

from hypothesis import strategies as st
from itsdangerous import TimestampSigner
from starlette.middleware.sessions import SessionMiddleware as StarletteSessionMiddleware
from starlette.types import Message, Receive, Scope, Send

#: Any JSON value Starlette's json.dumps/json.loads round-trips exactly.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
session_data = st.dictionaries(st.text(min_size=1, max_size=12), json_values, min_size=1, max_size=6)


def _scope(cookie: str | None) -> Scope:
    headers = [] if cookie is None else [(b"cookie", f"session={cookie}".encode("latin-1"))]
    return {"type": "http", "method": "GET", "path": "/", "root_path": "", "query_string": b"", "headers": headers}


def _run(middleware: Any, scope: Scope) -> list[Message]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    return sent


def starlette_cookie(data: Mapping[str, Any], secret: Any, **options: Any) -> str:
    """The session cookie value Starlette's SessionMiddleware sets for ``data``."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        scope["session"].update(data)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    start = _run(StarletteSessionMiddleware(app, secret, **options), _scope(None))[0]
    (header,) = [v.decode("latin-1") for k, v in start["headers"] if k == b"set-cookie"]
    name, _, rest = header.partition("=")
    assert name == options.get("session_cookie", "session")
    value: str = rest.partition(";")[0]
    return value


def starlette_reads(value: str, secret: Any, **options: Any) -> dict[str, Any]:
    """What Starlette's SessionMiddleware itself finds in a session cookie value."""
    seen: dict[str, Any] = {}

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.update(scope["session"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    _run(StarletteSessionMiddleware(app, secret, **options), _scope(value))
    return seen


def signed_like_starlette(payload: bytes, secret: str, *, at: float | None = None) -> str:
    """``payload`` signed exactly as Starlette signs its cookies, optionally at another time."""

    class Signer(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() if at is None else int(at)

    signed: bytes = Signer(secret).sign(payload)
    return signed.decode("ascii")


def encoded(data: Any) -> bytes:
    """Starlette's cookie payload: base64 of the JSON."""
    return b64encode(json.dumps(data).encode())
