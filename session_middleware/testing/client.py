"""Sends requests to an ASGI or WSGI app in-process, one at a time or two overlapping."""

from __future__ import annotations

import asyncio
import io
import json
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, urlencode

from ..types import ASGIApp, Message

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import WSGIApplication

__all__ = ["AppClient", "Reply", "Request"]

T = TypeVar("T")
HOST = "testserver"
#: How long one of two overlapping requests waits for the other before the test fails.
OVERLAP_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request. ``path`` is decoded (it is percent-encoded on the wire)."""

    method: str
    path: str
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Sequence[tuple[str, str]] = ()
    body: bytes = b""
    #: The client's IP address (the socket peer the app sees).
    address: str = "127.0.0.1"

    @classmethod
    def json(cls, method: str, path: str, payload: Any, **kwargs: Any) -> Request:
        headers = [("content-type", "application/json"), *kwargs.pop("headers", ())]
        return cls(method, path, body=json.dumps(payload).encode(), headers=headers, **kwargs)


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key.lower() == name.lower()]

    def header(self, name: str) -> str | None:
        values = self.header_values(name)
        return ", ".join(values) if values else None

    def json(self) -> Any:
        return json.loads(self.body)


class AppClient:
    """Drives an app in this process, like a server would, with no network and no cookie jar.

    Build it with :meth:`asgi` or :meth:`wsgi`. An ASGI app runs on an event loop owned by
    the client (:meth:`run` runs other coroutines there, such as a store's ``aclose``).
    """

    def __init__(self, asgi: ASGIApp | None = None, wsgi: WSGIApplication | None = None) -> None:
        if (asgi is None) == (wsgi is None):
            raise TypeError("pass exactly one of asgi= and wsgi=")
        self.asgi_app = asgi
        self.wsgi_app = wsgi
        self._loop = asyncio.new_event_loop() if asgi is not None else None

    @classmethod
    def asgi(cls, app: ASGIApp) -> AppClient:
        return cls(asgi=app)

    @classmethod
    def wsgi(cls, app: WSGIApplication) -> AppClient:
        return cls(wsgi=app)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run a coroutine on the client's event loop (ASGI clients only)."""
        if self._loop is None:
            raise TypeError("a WSGI client has no event loop")
        return self._loop.run_until_complete(coroutine)

    def close(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.close()

    def send(self, request: Request) -> Reply:
        if self.asgi_app is not None:
            return self.run(_call_asgi(self.asgi_app, request, None))
        assert self.wsgi_app is not None
        return _call_wsgi(self.wsgi_app, request, None)

    def send_overlapping(self, first: Request, second: Request) -> tuple[Reply, Reply]:
        """Send two requests so that both are in flight at once, deterministically.

        Both load their session before either saves: each request's app is held when it
        first reads its body until the other one has reached that point too, then the
        first runs to its end before the second goes on. Apps must read the request body
        (the kit's probe routes do) for the requests to overlap.
        """
        if self.asgi_app is not None:
            return self.run(_overlap_asgi(self.asgi_app, first, second))
        assert self.wsgi_app is not None
        return _overlap_wsgi(self.wsgi_app, first, second)


def _raw_path(path: str) -> bytes:
    return quote(path, safe="/!$&'()*+,;=:@-._~").encode("ascii")


# -- ASGI ------------------------------------------------------------------------------------


async def _call_asgi(app: ASGIApp, request: Request, gate: Callable[[], Awaitable[None]] | None) -> Reply:
    query = urlencode(dict(request.query)).encode("ascii")
    headers = [(b"host", HOST.encode())] + [
        (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in request.headers
    ]
    if request.body:
        headers.append((b"content-length", str(len(request.body)).encode()))
    scope: dict[str, Any] = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": request.method,
        "scheme": "http",
        "path": request.path,
        "raw_path": _raw_path(request.path),
        "query_string": query,
        "root_path": "",
        "headers": headers,
        "client": (request.address, 50000),
        "server": (HOST, 80),
        "state": {},
    }
    body_sent = False
    status: int | None = None
    reply_headers: list[tuple[str, str]] = []
    chunks: list[bytes] = []
    finished = asyncio.Event()

    async def receive() -> Message:
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            if gate is not None:
                await gate()
            return {"type": "http.request", "body": request.body, "more_body": False}
        await finished.wait()  # nothing more until the response ends, as with a real client
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            assert status is None, "the app started its response twice"
            status = message["status"]
            reply_headers.extend((k.decode("latin-1"), v.decode("latin-1")) for k, v in message.get("headers", ()))
        elif message["type"] == "http.response.body":
            assert status is not None, "the app sent a body before starting its response"
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                finished.set()

    await app(scope, receive, send)
    finished.set()
    assert status is not None, f"the app sent no response to {request.method} {request.path}"
    return Reply(status, reply_headers, b"".join(chunks))


async def _overlap_asgi(app: ASGIApp, first: Request, second: Request) -> tuple[Reply, Reply]:
    second_loaded = asyncio.Event()
    first_done = asyncio.Event()

    async def hold_first() -> None:
        await asyncio.wait_for(second_loaded.wait(), OVERLAP_TIMEOUT)

    async def hold_second() -> None:
        second_loaded.set()
        await asyncio.wait_for(first_done.wait(), OVERLAP_TIMEOUT)

    async def run_first() -> Reply:
        try:
            return await _call_asgi(app, first, hold_first)
        finally:
            first_done.set()

    async def run_second() -> Reply:
        try:
            return await _call_asgi(app, second, hold_second)
        finally:
            second_loaded.set()

    one, two = await asyncio.gather(run_first(), run_second())
    return one, two


# -- WSGI ------------------------------------------------------------------------------------


class _GatedInput(io.BytesIO):
    """``wsgi.input`` that runs ``gate`` before the first read."""

    def __init__(self, body: bytes, gate: Callable[[], None] | None) -> None:
        super().__init__(body)
        self._gate = gate

    def _pass_gate(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate()

    def read(self, size: int | None = -1) -> bytes:
        self._pass_gate()
        return super().read(size)

    def read1(self, size: int | None = -1) -> bytes:
        self._pass_gate()
        return super().read1(size)

    def readinto(self, buffer: Any) -> int:
        self._pass_gate()
        return super().readinto(buffer)

    def readline(self, size: int | None = -1) -> bytes:
        self._pass_gate()
        return super().readline(size)


def _environ(request: Request, gate: Callable[[], None] | None) -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        "SCRIPT_NAME": "",
        # PEP 3333: the decoded path's bytes, as latin-1 text.
        "PATH_INFO": request.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": urlencode(dict(request.query)),
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": request.address,
        "HTTP_HOST": HOST,
        "CONTENT_LENGTH": str(len(request.body)),
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": _GatedInput(request.body, gate),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in request.headers:
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
        else:
            key = "HTTP_" + key
            environ[key] = f"{environ[key]}, {value}" if key in environ else value
    return environ


def _call_wsgi(app: WSGIApplication, request: Request, gate: Callable[[], None] | None) -> Reply:
    started: list[tuple[str, list[tuple[str, str]]]] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None) -> Any:
        if started and exc_info is None:
            raise AssertionError("start_response called twice without exc_info")
        started[:] = [(status, list(headers))]
        return chunks.append

    result: Iterable[bytes] = app(_environ(request, gate), start_response)
    try:
        for chunk in result:
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    assert started, f"the app sent no response to {request.method} {request.path}"
    status, headers = started[0]
    return Reply(int(status.split(" ", 1)[0]), headers, b"".join(chunks))


def _overlap_wsgi(app: WSGIApplication, first: Request, second: Request) -> tuple[Reply, Reply]:
    second_loaded = threading.Event()
    first_done = threading.Event()
    replies: dict[int, Reply] = {}
    errors: list[BaseException] = []

    def wait(event: threading.Event) -> None:
        if not event.wait(OVERLAP_TIMEOUT):
            raise AssertionError("overlapping requests: the app never read a request body")

    def hold_second() -> None:
        second_loaded.set()
        wait(first_done)

    def run(index: int, request: Request, gate: Callable[[], None], done: threading.Event) -> None:
        try:
            replies[index] = _call_wsgi(app, request, gate)
        except BaseException as exc:  # re-raised in the calling thread
            errors.append(exc)
        finally:
            done.set()

    threads = [
        threading.Thread(target=run, args=(0, first, lambda: wait(second_loaded), first_done)),
        threading.Thread(target=run, args=(1, second, hold_second, second_loaded)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return replies[0], replies[1]
