"""The ASGI driver: reads a bounded body, awaits the API core's flow, sends the response."""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Unpack

from .._ops import arun_flow
from .._request import from_scope
from ..events import aemit
from ..stores.base import Store
from ..types import Receive, Scope, Send
from ._access import Grant, callback_grant
from ._core import ApiCore, ApiOptions
from ._errors import ApiError
from ._http import ApiRequest, ApiResponse, api_request


class _Disconnected(Exception):
    """The client went away while its body was being read."""


class SessionsAPI:
    """The REST API as an ASGI app; mount it anywhere (``Mount``, ``app.mount``...)."""

    def __init__(self, core: ApiCore) -> None:
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            return
        core = self.core
        request = request_from_scope(scope)
        try:
            request = replace(request, body=await self._body(request, receive))
        except ApiError as error:
            await send_response(send, core.reject(request, error))
            return
        except _Disconnected:
            return
        await send_response(send, await self.arespond(request))

    async def arespond(self, request: ApiRequest) -> ApiResponse:
        """Answer one request whose body has been read (for other frameworks' adapters)."""
        core = self.core
        try:
            grant = core.token_grant(request)
            if grant is Grant.NONE and core.api_authorize is not None:
                verdict = core.api_authorize(request)
                if inspect.isawaitable(verdict):
                    verdict = await verdict
                grant = callback_grant(verdict)
            response = await arun_flow(core.handle(request, grant), core.store)
        except Exception as exc:
            return core.failure(request, exc)
        for event in response.events:
            await aemit(core.on_event, event)
        return response

    async def _body(self, request: ApiRequest, receive: Receive) -> bytes:
        limit = self.core.max_body_size
        self.core.content_length(request.headers)
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:  # also catches chunked bodies, which declare no length
                raise self.core.too_large()
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)


def request_from_scope(scope: Scope) -> ApiRequest:
    """The API's request for an ASGI ``http`` scope (its body still to be read)."""
    return api_request(from_scope(scope), scope.get("session"))


async def send_response(send: Send, response: ApiResponse) -> None:
    headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in response.headers]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": response.body})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_asgi_app(store: Store, **options: Unpack[ApiOptions]) -> SessionsAPI:
    """The ``/sessions`` REST API (protocol v1) as an ASGI app over ``store``.

    Options are those of :class:`~session_middleware.api.ApiOptions`; here ``api_authorize``
    may also be an async callable.
    """
    return SessionsAPI(ApiCore(store, **options))
