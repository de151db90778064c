"""The ASGI adapter: translates scopes and messages for the core, which decides everything."""

from __future__ import annotations

from typing import Any, Unpack

from ._core import CookieState, Opened, SessionCore, StarletteOptions, Unavailable
from ._mount import mount_asgi
from ._ops import arun_flow
from ._request import RequestView, from_scope
from .events import aemit
from .exceptions import StoreError
from .types import ASGIApp, Message, Receive, Scope, Send


class SessionMiddleware:
    """Server-side sessions for any ASGI app: ``scope["session"]`` is the :class:`Session`.

    Works as ``SessionMiddleware(app, secret_key=...)`` and as Starlette's
    ``app.add_middleware(SessionMiddleware, secret_key=...)``, with Starlette's own
    option names too. HTTP and websocket scopes get a session; every other scope
    (lifespan) passes through untouched. With ``api_path`` the REST API answers there.
    """

    def __init__(self, app: ASGIApp, *args: Any, **options: Unpack[StarletteOptions]) -> None:
        self.core = SessionCore(*args, **options)
        self.app = mount_asgi(app, self.core)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        core = self.core
        view = from_scope(scope)
        opened = core.begin(view)
        if type(opened) is CookieState:
            load = opened.load
            assert load is not None
            try:
                record = load.run(core.store) if core.inline_load else await load.arun(core.store)
            except StoreError as error:
                await _unavailable(core, view, send, error)
                return
            opened = core.opened(view, opened, record)
        assert type(opened) is Opened
        scope["session"] = opened.session
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                await _commit_websocket(core, opened, view)
            return
        await self.app(scope, receive, _Responder(core, opened, view, send).send)


class _Responder:
    """Per-request state of an HTTP response whose start triggers the commit."""

    __slots__ = ("core", "opened", "view", "downstream", "suppressed")

    def __init__(self, core: SessionCore, opened: Opened, view: RequestView, send: Send) -> None:
        self.core = core
        self.opened = opened
        self.view = view
        self.downstream = send
        self.suppressed = False

    async def send(self, message: Message) -> None:
        if self.suppressed:
            return  # the app's response was replaced by a 503
        if message["type"] == "http.response.start":
            core = self.core
            set_cookie = None
            flow = core.commit(self.opened, self.view, message["status"])
            if flow is not None:
                try:
                    committed = await arun_flow(flow, core.store)
                except StoreError as error:
                    self.suppressed = True
                    failure = core.unavailable("saving a session", error, self.view, self.opened.session)
                    await _send_unavailable(self.downstream, failure)
                    return
                set_cookie = committed.set_cookie
                for event in committed.events:
                    await aemit(core.on_event, event)
            accessed = self.opened.session.accessed
            if set_cookie is not None or accessed:
                changed = core.response_headers_raw(message.get("headers", ()), set_cookie, accessed)
                if changed is not None:
                    message["headers"] = changed
        await self.downstream(message)


async def _commit_websocket(core: SessionCore, opened: Opened, view: RequestView) -> None:
    """Save a websocket's session changes when it ends (no cookie can be sent there)."""
    flow = core.commit(opened, view, None)
    if flow is None:
        return
    try:
        committed = await arun_flow(flow, core.store)
    except StoreError as error:
        await aemit(core.on_event, core.unavailable("saving a websocket's session", error, view, opened.session).event)
        return
    for event in committed.events:
        await aemit(core.on_event, event)


async def _unavailable(core: SessionCore, view: RequestView, send: Send, error: StoreError) -> None:
    failure = core.unavailable("loading a session", error, view)
    if view.is_websocket:
        await aemit(core.on_event, failure.event)
        await send({"type": "websocket.close", "code": 1013})  # "try again later"
    else:
        await _send_unavailable(send, failure)
        await aemit(core.on_event, failure.event)


async def _send_unavailable(send: Send, failure: Unavailable) -> None:
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in failure.headers]
    await send({"type": "http.response.start", "status": failure.status, "headers": raw})
    await send({"type": "http.response.body", "body": failure.body})
