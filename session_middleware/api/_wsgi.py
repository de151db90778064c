"""The WSGI driver: reads a bounded body, runs the API core's flow, returns the response."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Unpack

from .._ops import run_flow
from .._request import from_environ
from ..events import emit
from ..stores.base import Store
from ._access import Grant, callback_grant
from ._core import ApiCore, ApiOptions
from ._errors import ApiError
from ._http import ApiRequest, ApiResponse, api_request

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

_CHUNK = 64 * 1024


class WSGISessionsAPI:
    """The REST API as a WSGI app; mount it with ``DispatcherMiddleware`` or alike."""

    def __init__(self, core: ApiCore) -> None:
        self.core = core

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        core = self.core
        request = _request(environ)
        try:
            request = replace(request, body=self._body(request, environ))
        except ApiError as error:
            response = core.reject(request, error)
        else:
            response = self.respond(request)
        status = HTTPStatus(response.status)
        start_response(f"{status.value} {status.phrase}", list(response.headers))
        return [response.body]

    def respond(self, request: ApiRequest) -> ApiResponse:
        """Answer one request whose body has been read (for other frameworks' adapters)."""
        core = self.core
        try:
            grant = core.token_grant(request)
            if grant is Grant.NONE and core.api_authorize is not None:
                grant = callback_grant(core.api_authorize(request))
            response = run_flow(core.handle(request, grant), core.store)
        except Exception as exc:
            return core.failure(request, exc)
        for event in response.events:
            emit(core.on_event, event)
        return response

    def _body(self, request: ApiRequest, environ: WSGIEnvironment) -> bytes:
        limit = self.core.max_body_size
        length = self.core.content_length(request.headers)
        if length is None and not environ.get("wsgi.input_terminated"):
            # No length and a stream that may not end: per PEP 3333 there is no body to read.
            return b""
        stream = environ["wsgi.input"]
        wanted = limit + 1 if length is None else length
        chunks: list[bytes] = []
        size = 0
        while size < wanted:
            chunk = stream.read(min(_CHUNK, wanted - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:  # only a chunked body (wsgi.input_terminated) can get here
            raise self.core.too_large()
        return b"".join(chunks)


def _request(environ: WSGIEnvironment) -> ApiRequest:
    return api_request(from_environ(environ), environ.get("session"))


def create_wsgi_app(store: Store, **options: Unpack[ApiOptions]) -> WSGISessionsAPI:
    """The ``/sessions`` REST API (protocol v1) as a WSGI app over ``store``.

    Options are those of :class:`~session_middleware.api.ApiOptions`; ``api_authorize`` must
    be a sync callable here (an awaitable result is refused).
    """
    return WSGISessionsAPI(ApiCore(store, **options))
