"""One neutral view of a request, built once by each adapter (the sans-IO request).

The core reads the cookie, the scheme, the path and the origin headers from it; the REST
API builds its :class:`~session_middleware.api.ApiRequest` from it. Adapters only
translate their protocol's request into this view and back: ASGI (:func:`from_scope`),
WSGI (:func:`from_environ`), and Flask through WSGI.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
    :param cookie: the ``Cookie`` header.
    :param headers: every header by lower-case name.

    Adapters build the views of :func:`from_scope` and :func:`from_environ`, which read the
    cookie at once (every request needs it) and everything else from the scope or environ
    only when asked: most requests never need more.
    """

    __slots__ = ("_method", "_scheme", "_path", "_root_path", "_query_string", "_peer", "cookie", "_headers")

    def __init__(
        self,
        method: str,
        scheme: str,
        path: str,
        root_path: str = "",
        query_string: bytes = b"",
        peer: str | None = None,
        cookie: str | None = None,
        headers: Headers | None = None,
    ) -> None:
        self._method = method
        self._scheme = scheme
        self._path = path
        self._root_path = root_path
        self._query_string = query_string
        self._peer = peer
        self.cookie = cookie
        self._headers = _NO_HEADERS if headers is None else headers

    @property
    def method(self) -> str:
        return self._method

    @property
    def scheme(self) -> str:
        return self._scheme

    @property
    def path(self) -> str:
        return self._path

    @property
    def root_path(self) -> str:
        return self._root_path

    @property
    def query_string(self) -> bytes:
        return self._query_string

    @property
    def peer(self) -> str | None:
        return self._peer

    @property
    def headers(self) -> Headers:
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


_NO_HEADERS: Headers = MappingProxyType({})

# -- ASGI --------------------------------------------------------------------------------


class _ScopeView(RequestView):
    """An ASGI scope seen as a :class:`RequestView`, read when asked."""

    __slots__ = ("_scope",)

    def __init__(self, scope: Scope, cookie: str | None) -> None:
        self._scope = scope
        self.cookie = cookie
        self._headers = None  # type: ignore[assignment]

    @property
    def method(self) -> str:
        scope = self._scope
        return "WEBSOCKET" if scope["type"] == "websocket" else str(scope.get("method", "GET")).upper()

    @property
    def scheme(self) -> str:
        scope = self._scope
        return scope.get("scheme") or ("ws" if scope["type"] == "websocket" else "http")  # optional in ASGI

    @property
    def root_path(self) -> str:
        return self._scope.get("root_path", "")  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        path: str = self._scope["path"]
        root_path = self.root_path
        # ASGI servers and Starlette's Mount keep root_path inside path; others do not.
        if root_path and (path == root_path or path.startswith(root_path + "/")):
            return path[len(root_path) :]
        return path

    @property
    def query_string(self) -> bytes:
        return self._scope.get("query_string", b"")  # type: ignore[no-any-return]

    @property
    def peer(self) -> str | None:
        client = self._scope.get("client")
        return client[0] if client else None

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            raw = self._scope["headers"]
            self._headers = header_map((k.decode("latin-1"), v.decode("latin-1")) for k, v in raw)
        return self._headers


def from_scope(scope: Scope) -> RequestView:
    """The view of an ASGI ``http`` or ``websocket`` scope."""
    cookie = None
    for key, value in scope["headers"]:
        if key == b"cookie":
            text = value.decode("latin-1")
            cookie = text if cookie is None else f"{cookie}; {text}"  # HTTP/2 may split cookies
    return _ScopeView(scope, cookie)


# -- WSGI --------------------------------------------------------------------------------


def _environ_headers(environ: WSGIEnvironment) -> Headers:
    pairs = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
    pairs += [(k.replace("_", "-"), environ[k]) for k in ("CONTENT_TYPE", "CONTENT_LENGTH") if environ.get(k)]
    return header_map(pairs)


def unwsgi(value: str) -> str:
    """A PEP 3333 "bytes as latin-1" string back to text, decoded as UTF-8 like ASGI servers do."""
    if value.isascii():
        return value
    try:
        return value.encode("latin-1").decode("utf-8", "replace")
    except UnicodeEncodeError:
        return value  # the server already decoded it


class _EnvironView(RequestView):
    """A WSGI environ seen as a :class:`RequestView`, read when asked."""

    __slots__ = ("_environ",)

    def __init__(self, environ: WSGIEnvironment) -> None:
        self._environ = environ
        self.cookie = environ.get("HTTP_COOKIE")
        self._headers = None  # type: ignore[assignment]

    @property
    def method(self) -> str:
        return str(self._environ.get("REQUEST_METHOD", "GET")).upper()

    @property
    def scheme(self) -> str:
        return self._environ.get("wsgi.url_scheme", "http")  # type: ignore[no-any-return]

    @property
    def path(self) -> str:
        return unwsgi(self._environ.get("PATH_INFO", ""))

    @property
    def root_path(self) -> str:
        return unwsgi(self._environ.get("SCRIPT_NAME", ""))

    @property
    def query_string(self) -> bytes:
        return str(self._environ.get("QUERY_STRING", "")).encode("latin-1", "replace")

    @property
    def peer(self) -> str | None:
        return self._environ.get("REMOTE_ADDR")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = _environ_headers(self._environ)
        return self._headers


def from_environ(environ: WSGIEnvironment) -> RequestView:
    """The view of a WSGI request."""
    return _EnvironView(environ)
