"""One neutral view of a request, built once by each adapter (the sans-IO request).

The core reads the cookie, the scheme, the path and the origin headers from it; the REST
API builds its :class:`~session_middleware.api.ApiRequest` from it. Adapters only
translate their protocol's request into this view and back: ASGI (:func:`from_scope`),
WSGI (:func:`from_environ`), and Flask through WSGI.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING

from .types import Scope

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIEnvironment

#: Headers by lower-case name, read-only.
Headers = Mapping[str, str]


def header_map(pairs: Iterable[tuple[str, str]]) -> Headers:
    """Headers by lower-case name, repeated fields joined with ``", "`` (RFC 9110), read-only.

    ``Cookie`` fields are joined with ``"; "`` instead (RFC 9113, HTTP/2 splits them)."""
    headers: dict[str, str] = {}
    for name, value in pairs:
        key = name.lower()
        if key in headers:
            value = f"{headers[key]}{'; ' if key == 'cookie' else ', '}{value}"
        headers[key] = value
    return MappingProxyType(headers)


class RequestView:
    """The parts of one request the session layer needs.

    :param method: upper-case HTTP method (``"WEBSOCKET"`` for a websocket handshake).
    :param scheme: ``http``, ``https``, ``ws`` or ``wss``.
    :param path: the path below ``root_path``, decoded.
    :param root_path: where the app is mounted.
    :param query_string: undecoded.
    :param peer: the socket peer's address, if known.
    :param cookie: the ``Cookie`` header, read eagerly: every request needs it.
    :param load_headers: builds the whole header mapping, called at most once and only
        when something needs more than the cookie (a new session's origin, the REST API).
    """

    __slots__ = ("method", "scheme", "path", "root_path", "query_string", "peer", "cookie", "_load", "_headers")

    def __init__(
        self,
        *,
        method: str,
        scheme: str,
        path: str,
        root_path: str = "",
        query_string: bytes = b"",
        peer: str | None = None,
        cookie: str | None = None,
        load_headers: Callable[[], Headers] | None = None,
        headers: Headers | None = None,
    ) -> None:
        self.method = method
        self.scheme = scheme
        self.path = path
        self.root_path = root_path
        self.query_string = query_string
        self.peer = peer
        self.cookie = cookie
        self._load = load_headers
        self._headers = headers

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = self._load() if self._load is not None else MappingProxyType({})
        return self._headers

    @property
    def https(self) -> bool:
        """The request came over TLS (as the server saw it)."""
        return self.scheme in ("https", "wss")

    @property
    def is_websocket(self) -> bool:
        return self.scheme in ("ws", "wss")

    def header(self, name: str) -> str | None:
        """One header by lower-case name."""
        return self.headers.get(name)


# -- ASGI --------------------------------------------------------------------------------


def from_scope(scope: Scope) -> RequestView:
    """The view of an ASGI ``http`` or ``websocket`` scope."""
    raw = scope["headers"]
    cookie = None
    for key, value in raw:
        if key == b"cookie":
            text = value.decode("latin-1")
            cookie = text if cookie is None else f"{cookie}; {text}"  # HTTP/2 may split cookies
    root_path: str = scope.get("root_path", "")
    path: str = scope["path"]
    # ASGI servers and Starlette's Mount keep root_path inside path; others do not.
    if root_path and (path == root_path or path.startswith(root_path + "/")):
        path = path[len(root_path) :]
    client = scope.get("client")
    websocket = scope["type"] == "websocket"
    scheme = scope.get("scheme") or ("ws" if websocket else "http")  # "scheme" is optional in ASGI
    return RequestView(
        method="WEBSOCKET" if websocket else scope.get("method", "GET").upper(),
        scheme=scheme,
        path=path,
        root_path=root_path,
        query_string=scope.get("query_string", b""),
        peer=client[0] if client else None,
        cookie=cookie,
        load_headers=lambda: header_map((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw),
    )


# -- WSGI --------------------------------------------------------------------------------


def _environ_headers(environ: WSGIEnvironment) -> Headers:
    pairs = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
    pairs += [(k.replace("_", "-"), environ[k]) for k in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(k)]
    return header_map(pairs)


def unwsgi(value: str) -> str:
    """A PEP 3333 "bytes as latin-1" string back to text, decoded as UTF-8 like ASGI servers do."""
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value  # the server already decoded it


def from_environ(environ: WSGIEnvironment) -> RequestView:
    """The view of a WSGI request."""
    return RequestView(
        method=environ.get("REQUEST_METHOD", "GET").upper(),
        scheme=environ.get("wsgi.url_scheme", "http"),
        path=unwsgi(environ.get("PATH_INFO", "")),
        root_path=unwsgi(environ.get("SCRIPT_NAME", "")),
        query_string=environ.get("QUERY_STRING", "").encode("latin-1", "replace"),
        peer=environ.get("REMOTE_ADDR"),
        cookie=environ.get("HTTP_COOKIE"),
        load_headers=lambda: _environ_headers(environ),
    )
