"""The ASGI adapter: a pure ASGI middleware that saves the session when the response starts."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from typing import Any, Unpack

from .client_info import client_address
from .core import RETRY_AFTER_SECONDS, CookieState, SessionCore, SessionOptions
from .exceptions import StoreError
from .flow import arun_flow
from .session import Session
from .types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("session_middleware")

_UNAVAILABLE_BODY = b"The session store is unavailable; please retry shortly.\n"
_UNAVAILABLE_HEADERS = [
    (b"content-type", b"text/plain; charset=utf-8"),
    (b"content-length", str(len(_UNAVAILABLE_BODY)).encode()),
    (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
    (b"cache-control", b"no-store"),
]


class SessionMiddleware:
    """Server-side sessions for any ASGI app: ``scope["session"]`` is the :class:`Session`.

    Works as ``SessionMiddleware(app, secret_key=...)`` and as Starlette's
    ``app.add_middleware(SessionMiddleware, secret_key=...)``. HTTP and websocket scopes
    get a session; every other scope (lifespan) passes through untouched.
    """

    def __init__(self, app: ASGIApp, **options: Unpack[SessionOptions]) -> None:
        self.app = app
        self.core = SessionCore(**options)
        self._api: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        core = self.core
        id_header = None if core.id_header is None else _id_header(scope, core.id_header)
        cookie = core.read_credentials(_cookie_header(scope), id_header)
        record = None
        if cookie.session_id is not None:
            try:
                record = await core.store.aload_and_touch(cookie.session_id)
            except Exception:
                logger.exception("session store failed while loading a session")
                await _unavailable(scope, send)
                return
        # A partial, not a lambda: a closure would turn core and scope into cell variables.
        session, cookie = core.open_session(cookie, record, partial(_origin, core, scope))
        scope["session"] = session
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            await _commit_quietly(core, session, cookie)
            return
        app = self.app
        root_path = scope.get("root_path", "")
        path = scope["path"]
        # ASGI servers and Starlette's Mount keep root_path inside path; others do not.
        relative = path[len(root_path) :] if root_path and path.startswith(root_path) else path
        if core.is_api_path(relative):
            app = self._api_app()
            scope["root_path"] = root_path + (core.api_path or "")
        https = scope.get("scheme", "http") == "https"  # "scheme" is optional in ASGI
        await app(scope, receive, _Responder(core, session, cookie, https, send).send_wrapper)

    def _api_app(self) -> ASGIApp:
        if self._api is None:
            from .api import create_asgi_app

            self._api = create_asgi_app(self.core.store, **self.core.api_options())
        return self._api


class _Responder:
    """Per-request state of an HTTP response whose start triggers the commit."""

    __slots__ = ("core", "session", "cookie", "https", "send", "suppressed")

    def __init__(self, core: SessionCore, session: Session, cookie: CookieState, https: bool, send: Send) -> None:
        self.core = core
        self.session = session
        self.cookie = cookie
        self.https = https
        self.send = send
        self.suppressed = False

    async def send_wrapper(self, message: Message) -> None:
        if self.suppressed:
            return  # the app's response was replaced by a 503
        if message["type"] == "http.response.start" and self.core.needs_commit(self.session, self.cookie):
            flow = self.core.commit_flow(self.session, self.cookie, status=message["status"], https=self.https)
            try:
                set_cookie = await arun_flow(flow, self.core.store)
            except StoreError:
                logger.exception("session store failed while saving a session")
                self.suppressed = True
                await _send_unavailable(self.send)
                return
            if set_cookie is not None:
                headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ())]
                message["headers"] = [
                    (k.lower().encode("latin-1"), v.encode("latin-1"))
                    for k, v in self.core.response_headers(headers, set_cookie)
                ]
        await self.send(message)


async def _commit_quietly(core: SessionCore, session: Session, cookie: CookieState) -> None:
    """Save a websocket's session changes when it ends (no cookie can be sent there)."""
    try:
        await arun_flow(core.commit_flow(session, cookie, status=200, https=True, can_set_cookie=False), core.store)
    except StoreError:
        logger.exception("session store failed while saving a websocket's session")


def _cookie_header(scope: Scope) -> str | None:
    values = [v for k, v in scope["headers"] if k == b"cookie"]
    if not values:
        return None
    # HTTP/2 may split cookies over several fields; RFC 9113 joins them with "; ".
    return b"; ".join(values).decode("latin-1")


def _id_header(scope: Scope, name: str | None) -> str | None:
    if name is None:
        return None
    key = name.lower().encode("latin-1")
    values = [v for k, v in scope["headers"] if k == key]
    return b", ".join(values).decode("latin-1") if values else None  # several values never verify


def _headers(scope: Scope) -> Mapping[str, str]:
    headers: dict[str, str] = {}
    for key, value in scope["headers"]:
        name = key.decode("latin-1").lower()
        text = value.decode("latin-1")
        headers[name] = f"{headers[name]}, {text}" if name in headers else text
    return headers


def _origin(core: SessionCore, scope: Scope) -> tuple[str, str]:
    headers = _headers(scope)
    client = scope.get("client")
    peer = client[0] if client else None
    return client_address(peer, headers.get("x-forwarded-for"), core.trusted_proxies), core.client_name(headers)


async def _unavailable(scope: Scope, send: Send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013})  # "try again later"
    else:
        await _send_unavailable(send)


async def _send_unavailable(send: Send) -> None:
    start: dict[str, Any] = {"type": "http.response.start", "status": 503, "headers": _UNAVAILABLE_HEADERS}
    await send(start)
    await send({"type": "http.response.body", "body": _UNAVAILABLE_BODY})
