"""Calling ASGI and WSGI apps in-process with synthetic requests: no server, no sockets.

Each request gets a fresh scope/environ built *before* the clock starts, so the time
measured is the app stack's alone (plus the same small constant for every cell).
"""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any

Scope = dict[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def receive() -> Message:
    return _REQUEST


async def discard(_message: Message) -> None:
    """The ``send`` of timed requests: the response goes nowhere."""


def asgi_scope(path: str, cookie: str | None) -> Scope:
    headers = [(b"host", b"bench.local"), (b"user-agent", USER_AGENT.encode()), (b"accept", b"*/*")]
    if cookie:
        headers.append((b"cookie", cookie.encode("latin-1")))
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 54321),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }


def fresh_scope(template: Scope) -> Scope:
    scope = template.copy()
    scope["headers"] = list(template["headers"])
    scope["state"] = {}
    return scope


def wsgi_environ(path: str, cookie: str | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "bench.local",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "54321",
        "HTTP_HOST": "bench.local",
        "HTTP_USER_AGENT": USER_AGENT,
        "HTTP_ACCEPT": "*/*",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if cookie:
        environ["HTTP_COOKIE"] = cookie
    return environ


def fresh_environ(template: dict[str, Any]) -> dict[str, Any]:
    environ = template.copy()
    environ["wsgi.input"] = io.BytesIO(b"")
    return environ


def start_response_noop(
    _status: str, _headers: list[tuple[str, str]], _exc_info: Any = None
) -> Callable[[bytes], None]:
    return _write_noop


def _write_noop(_data: bytes) -> None:
    pass


def consume(result: Iterable[bytes]) -> None:
    """Iterate a WSGI response and close it, as a server would."""
    try:
        for _chunk in result:
            pass
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()


@dataclass
class Response:
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


async def asgi_request(app: ASGIApp, path: str, cookie: str | None) -> Response:
    """One request with the response captured (for set-up and checks, not timing)."""
    response = Response()

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            response.status = message["status"]
            response.headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", [])]
        elif message["type"] == "http.response.body":
            response.body += message.get("body", b"")

    await app(fresh_scope(asgi_scope(path, cookie)), receive, send)
    return response


def wsgi_request(app: WSGIApp, path: str, cookie: str | None) -> Response:
    response = Response()

    def start_response(status: str, headers: list[tuple[str, str]], _exc_info: Any = None) -> Callable[[bytes], None]:
        response.status = int(status[:3])
        response.headers = list(headers)
        return _write_noop

    result = app(fresh_environ(wsgi_environ(path, cookie)), start_response)
    try:
        for chunk in result:
            response.body += chunk
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return response


def cookie_from(response: Response, name: str) -> str:
    """The ``name=value`` pair a response's Set-Cookie gives, for the next request's Cookie header."""
    for value in response.header_values("set-cookie"):
        pair = value.split(";", 1)[0].strip()
        if pair.startswith(name + "="):
            return pair
    raise RuntimeError(f"no {name} cookie in the response (status {response.status})")
