"""The WSGI driver: reads a bounded body, runs the API core's flow, returns the response."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from http import HTTPStatus
from typing import TYPE_CHECKING, Unpack

from ..flow import run_flow
from ..session import Session
from ..stores.base import Store
from ._access import Grant, callback_grant
from ._core import ApiCore, ApiOptions
from ._errors import ApiError
from ._http import ApiRequest, header_map

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
            try:
                grant = core.token_grant(request)
                if grant is Grant.NONE and core.api_authorize is not None:
                    grant = callback_grant(core.api_authorize(request))
                response = run_flow(core.handle(request, grant), core.store)
            except Exception as exc:
                response = core.failure(request, exc)
        status = HTTPStatus(response.status)
        start_response(f"{status.value} {status.phrase}", list(response.headers))
        return [response.body]

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
    pairs = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
    pairs += [(k.replace("_", "-"), environ[k]) for k in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(k)]
    session = environ.get("session")
    return ApiRequest(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        path=_unwsgi(environ.get("PATH_INFO", "")),
        root_path=_unwsgi(environ.get("SCRIPT_NAME", "")),
        query_string=environ.get("QUERY_STRING", "").encode("latin-1", "replace"),
        headers=header_map(pairs),
        session=session if isinstance(session, Session) else None,
        scheme=environ.get("wsgi.url_scheme", "http"),
    )


def _unwsgi(value: str) -> str:
    """A PEP 3333 "bytes as latin-1" string back to text, decoded as UTF-8 like ASGI servers do."""
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value  # the server already decoded it


def create_wsgi_app(store: Store, **options: Unpack[ApiOptions]) -> WSGISessionsAPI:
    """The ``/sessions`` REST API (protocol v1) as a WSGI app over ``store``.

    Options are those of :class:`~session_middleware.api.ApiOptions`; ``api_authorize`` must
    be a sync callable here (an awaitable result is refused).
    """
    return WSGISessionsAPI(ApiCore(store, **options))
