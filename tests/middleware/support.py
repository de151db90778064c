"""Test doubles and drivers shared by the middleware suite.

One scenario app is written once (``handle``) and served four ways: raw ASGI, raw WSGI,
Starlette and Flask. ``Harness`` drives any of them with the same request API, so every
lifecycle test runs unchanged through both adapters.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, quote

import httpx
from itsdangerous import BadSignature, Signer
from werkzeug.test import EnvironBuilder, run_wsgi_app

from session_middleware import MemoryStore, Session, SessionMiddleware, StoreError, WSGISessionMiddleware
from session_middleware._signing import COOKIE_SALT
from session_middleware.records import DataChanges, SessionRecord
from session_middleware.testing.clock import FakeClock as _KitClock

KEY = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
OLD_KEY = "older-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
OTHER_KEY = "another-apps-key-0123456789-abcdefghijklmnopqrstuvwxyz"
T0 = 1_700_000_000.0

Kind = Literal["asgi", "wsgi", "starlette", "flask"]
ASGI_KINDS = ("asgi", "starlette")


class FakeClock(_KitClock):
    """The testing kit's clock from a fixed start, so dates in tests are stable."""

    def __init__(self, now: float = T0) -> None:
        super().__init__(now)

    def rewind(self, seconds: float) -> None:
        """Move back in time: only for proving a record was deleted, not merely expired."""
        self._now -= seconds


# -- a store that counts, fails and pauses on demand ---------------------------------


class SpyStore:
    """Wraps a MemoryStore: records every call (sync and async under one name), raises
    ``ConnectionError`` for the methods listed in ``failing`` (all when it holds "*"),
    and runs ``before[name]`` hooks so tests can interleave requests deterministically."""

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner
        self.clock = inner.clock
        self.calls: list[str] = []
        self.failing: set[str] = set()
        self.before: dict[str, Callable[[], None]] = {}
        self.abefore: dict[str, Callable[[], Awaitable[None]]] = {}
        #: Ids of every session created through this spy, in order.
        self.known: dict[str, None] = {}

    def count(self, *names: str) -> int:
        return sum(1 for c in self.calls if not names or c in names)

    @property
    def writes(self) -> int:
        return self.count("create", "save_changes", "delete", "close_by_user")

    def reset(self) -> None:
        self.calls.clear()

    def _enter(self, name: str) -> None:
        self.calls.append(name)
        if hook := self.before.get(name):
            hook()
        if name in self.failing or "*" in self.failing:
            raise StoreError("session store unreachable")

    async def _aenter(self, name: str) -> None:
        if hook := self.abefore.get(name):
            await hook()
        self._enter(name)

    # -- sync --
    def create(self, record: SessionRecord, *, replaces: str | None = None, max_per_user: int | None = None) -> bool:
        self._enter("create")
        self.known[record.id] = None
        return self.inner.create(record, replaces=replaces, max_per_user=max_per_user)

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        self._enter("load_and_touch")
        return self.inner.load_and_touch(session_id, user_id=user_id, touch_interval=touch_interval)

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        self._enter("save_changes")
        return self.inner.save_changes(session_id, changes)

    def delete(self, session_id: str) -> bool:
        self._enter("delete")
        return self.inner.delete(session_id)

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        self._enter("list_by_user")
        return self.inner.list_by_user(user_id)

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        self._enter("find_by_client")
        return self.inner.find_by_client(user_id, address, client)

    def close_by_user(
        self, user_id: str, *, address: str | None = None, client: str | None = None, keep: str | None = None
    ) -> int:
        self._enter("close_by_user")
        return self.inner.close_by_user(user_id, address=address, client=client, keep=keep)

    def close(self) -> None:
        self.inner.close()

    def ping(self) -> None:
        self._enter("ping")

    async def aping(self) -> None:
        await self._aenter("ping")

    # -- async --
    async def acreate(
        self, record: SessionRecord, *, replaces: str | None = None, max_per_user: int | None = None
    ) -> bool:
        await self._aenter("create")
        self.known[record.id] = None
        return self.inner.create(record, replaces=replaces, max_per_user=max_per_user)

    async def aload_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        await self._aenter("load_and_touch")
        return self.inner.load_and_touch(session_id, user_id=user_id, touch_interval=touch_interval)

    async def asave_changes(self, session_id: str, changes: DataChanges) -> bool:
        await self._aenter("save_changes")
        return self.inner.save_changes(session_id, changes)

    async def adelete(self, session_id: str) -> bool:
        await self._aenter("delete")
        return self.inner.delete(session_id)

    async def alist_by_user(self, user_id: str) -> list[SessionRecord]:
        await self._aenter("list_by_user")
        return self.inner.list_by_user(user_id)

    async def afind_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        await self._aenter("find_by_client")
        return self.inner.find_by_client(user_id, address, client)

    async def aclose_by_user(
        self, user_id: str, *, address: str | None = None, client: str | None = None, keep: str | None = None
    ) -> int:
        await self._aenter("close_by_user")
        return self.inner.close_by_user(user_id, address=address, client=client, keep=keep)

    async def aclose(self) -> None:
        await self.inner.aclose()

    # -- inspection without counting (public store methods only) --
    def peek(self, session_id: str) -> SessionRecord | None:
        """The live record for ``session_id``, or None.

        Read with ``load_and_touch`` on the wrapped store, uncounted: tests peek right
        after a request, at the clock time that request already touched, so the touch
        changes nothing they observe.
        """
        return self.inner.load_and_touch(session_id)

    def all_records(self) -> list[SessionRecord]:
        """Every live session created through this spy (or seeded), oldest first."""
        return [r for r in map(self.peek, list(self.known)) if r is not None]

    def __len__(self) -> int:
        return len(self.inner)


# -- the log-leak guard --------------------------------------------------------------


class IdRegistry:
    """Every session id generated during a test, so logs can be searched for them."""

    def __init__(self) -> None:
        self.ids: set[str] = set()

    def wrap(self, make: Callable[..., str]) -> Callable[..., str]:
        def tracked(user_id: str | None = None) -> str:
            value = make(user_id)
            self.ids.add(value)
            return value

        return tracked


def find_leaks(records: list[logging.LogRecord], secrets: set[str]) -> list[str]:
    """The log lines that contain any of ``secrets`` (message, traceback or stack)."""
    formatter = logging.Formatter()
    leaks: list[str] = []
    for record in records:
        texts = [record.getMessage(), record.stack_info or ""]
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
        if record.exc_text:
            texts.append(record.exc_text)
        blob = "\n".join(texts)
        leaks.extend(f"{record.name}: {record.getMessage()[:120]}" for s in secrets if s in blob)
    return leaks


# -- cookies ------------------------------------------------------------------------


@dataclass(frozen=True)
class SetCookie:
    """One parsed ``Set-Cookie`` header (attribute names lower-cased)."""

    name: str
    value: str
    attrs: Mapping[str, str | bool]
    raw: str

    @property
    def cleared(self) -> bool:
        return self.attrs.get("max-age") == "0"


def parse_set_cookie(header: str) -> SetCookie:
    first, *rest = header.split(";")
    name, _, value = first.partition("=")
    attrs: dict[str, str | bool] = {}
    for part in rest:
        key, sep, val = part.strip().partition("=")
        attrs[key.lower()] = val if sep else True
    return SetCookie(name.strip(), value.strip(), attrs, header)


def signer(key: str = KEY) -> Signer:
    """An itsdangerous signer configured like the package's, built independently of it."""
    return Signer(key, salt=COOKIE_SALT, digest_method=hashlib.sha256)


def sign(session_id: str, key: str = KEY) -> str:
    return signer(key).sign(session_id).decode()


def unsign(value: str, key: str = KEY) -> str | None:
    try:
        return signer(key).unsign(value).decode()
    except BadSignature:
        return None


# -- replies ------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.header_list(name)
        return ", ".join(values) if values else None

    def header_list(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def set_cookies(self) -> list[SetCookie]:
        return [parse_set_cookie(v) for v in self.header_list("set-cookie")]

    def cookie(self, name: str = "session") -> SetCookie | None:
        """The one ``Set-Cookie`` for ``name`` (asserting there is at most one)."""
        found = [c for c in self.set_cookies if c.name == name]
        assert len(found) <= 1, f"several Set-Cookie headers for {name}: {found}"
        return found[0] if found else None


# -- the scenario app ---------------------------------------------------------------

Params = list[tuple[str, str]]


def view(session: Session) -> dict[str, Any]:
    return {
        "data": dict(session),
        "user": session.user,
        "user_id": session.user_id,
        "is_new": session.is_new,
        "address": session.address,
        "client": session.client,
        "opened": session.opened.isoformat(),
        "last_request": session.last_request.isoformat(),
    }


def _values(params: Params) -> list[tuple[str, Any]]:
    return [(k, json.loads(v)) for k, v in params if not k.startswith("_")]


_BAD_VALUES: dict[str, Callable[[], Any]] = {
    "nan": lambda: float("nan"),
    "inf": lambda: float("-inf"),
    "set": lambda: {1, 2},
    "bytes": lambda: b"raw",
    "object": object,
    "nested_nan": lambda: {"a": [1, float("nan")]},
}


def handle(session: Session, path: str, params: Params) -> tuple[int, Any, list[tuple[str, str]]]:
    """The scenario app's logic: what each path does to the session.

    Every path honours ``_status`` (the response status), ``_vary`` and ``_cc`` (headers the
    app sets itself) and ``_raise`` (raise after the work is done).
    """
    controls = {k: v for k, v in params if k.startswith("_")}
    payload: Any = None
    if path == "/set":
        for key, value in _values(params):
            session[key] = value
    elif path == "/append":  # nested mutation, no assignment of the outer value
        for key, value in _values(params):
            session.setdefault(key, []).append(value)
    elif path == "/nested":  # mutate a stored dict in place
        for key, value in _values(params):
            session[key]["inner"] = value
    elif path == "/del":
        for key, _ in params:
            if not key.startswith("_"):
                del session[key]
    elif path == "/clear":
        session.clear()
    elif path == "/login":
        user = json.loads(controls["_user"]) if "_user" in controls else {k: v for k, v in params if k[0] != "_"}
        session.login(user)
    elif path == "/switch":  # log out and in again within one request
        session.logout()
        session.login({k: v for k, v in params if not k.startswith("_")})
    elif path == "/logout":
        session.logout()
        for key, value in _values(params):  # data written after logout
            session[key] = value
    elif path == "/regenerate":
        session.regenerate()
        if "_clear" in controls:
            session.clear()
    elif path == "/id":
        payload = {"id_length": len(session.id)}
    elif path == "/bad":
        kind = controls["_kind"]
        try:
            session[controls["_key"]] = _BAD_VALUES[kind]()
        except TypeError as exc:
            payload = {"error": str(exc)}
    elif path == "/untouched":  # never looks at the session
        payload = {"untouched": True}
    elif path == "/get":  # reads one key, nothing else
        payload = {"value": session.get(dict(params).get("key", ""))}
    elif path == "/bad_nested":  # a non-JSON value slipped in by mutation: fails at commit
        session.setdefault(controls["_key"], []).append(float("nan"))
    elif path != "/":
        return 404, {"error": "no such path"}, []
    if "_raise" in controls:
        raise RuntimeError("the app failed")
    headers: list[tuple[str, str]] = []
    if "_vary" in controls:
        headers.append(("Vary", controls["_vary"]))
    if "_cc" in controls:
        headers.append(("Cache-Control", controls["_cc"]))
    if payload is None:
        payload = view(session)
    return int(controls.get("_status", 200)), payload, headers


class AsyncGates:
    """Named rendezvous points for ASGI requests: the request announces it has arrived,
    then waits until the test releases it."""

    def __init__(self) -> None:
        self.arrived: dict[str, asyncio.Event] = {}
        self.released: dict[str, asyncio.Event] = {}

    def _pair(self, name: str) -> tuple[asyncio.Event, asyncio.Event]:
        return self.arrived.setdefault(name, asyncio.Event()), self.released.setdefault(name, asyncio.Event())

    async def pass_through(self, name: str) -> None:
        arrived, released = self._pair(name)
        arrived.set()
        await released.wait()

    async def wait_arrival(self, name: str) -> None:
        await asyncio.wait_for(self._pair(name)[0].wait(), 5)

    def release(self, name: str) -> None:
        self._pair(name)[1].set()


class ThreadGates:
    """The same rendezvous for WSGI requests running in threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.arrived: dict[str, threading.Event] = {}
        self.released: dict[str, threading.Event] = {}

    def _pair(self, name: str) -> tuple[threading.Event, threading.Event]:
        with self._lock:
            return self.arrived.setdefault(name, threading.Event()), self.released.setdefault(name, threading.Event())

    def pass_through(self, name: str) -> None:
        arrived, released = self._pair(name)
        arrived.set()
        assert released.wait(5), f"gate {name} never released"

    def wait_arrival(self, name: str) -> None:
        assert self._pair(name)[0].wait(5), f"no request reached gate {name}"

    def release(self, name: str) -> None:
        self._pair(name)[1].set()


def _json_body(payload: Any) -> bytes:
    return json.dumps(payload).encode()


def raw_asgi_app(gates: AsyncGates) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        params = parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        status, payload, headers = handle(scope["session"], scope["path"], params)
        if gate := dict(params).get("_gate"):
            await gates.pass_through(gate)
        body = _json_body(payload)
        raw = [(k.lower().encode(), v.encode()) for k, v in headers]
        raw.append((b"content-type", b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})

    return app


def raw_wsgi_app(gates: ThreadGates) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        params = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        status, payload, headers = handle(environ["session"], environ["PATH_INFO"], params)
        if gate := dict(params).get("_gate"):
            gates.pass_through(gate)
        body = _json_body(payload)
        start_response(f"{status} X", [*headers, ("Content-Type", "application/json")])
        return [body]

    return app


def starlette_app(options: Mapping[str, Any], gates: AsyncGates) -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        params = list(request.query_params.multi_items())
        status, payload, headers = handle(request.scope["session"], request.url.path, params)
        if gate := dict(params).get("_gate"):
            await gates.pass_through(gate)
        return Response(_json_body(payload), status, headers=dict(headers), media_type="application/json")

    app = Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "POST", "HEAD"])])
    app.add_middleware(SessionMiddleware, **options)
    return app


def flask_app(options: Mapping[str, Any], gates: ThreadGates) -> Any:
    from flask import Flask, Response, request

    app = Flask("scenario")

    @app.route("/", defaults={"path": ""}, methods=["GET", "POST", "HEAD"])
    @app.route("/<path:path>", methods=["GET", "POST", "HEAD"])
    def endpoint(path: str) -> Response:
        params = list(request.args.items(multi=True))
        status, payload, headers = handle(request.environ["session"], "/" + path, params)
        if gate := dict(params).get("_gate"):
            gates.pass_through(gate)
        response = Response(_json_body(payload), status, mimetype="application/json")
        for name, value in headers:
            response.headers[name] = value
        return response

    app.wsgi_app = WSGISessionMiddleware(app.wsgi_app, **options)  # type: ignore[method-assign]
    return app


# -- drivers ------------------------------------------------------------------------

HeaderList = Sequence[tuple[str | bytes, str | bytes]]


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("latin-1")


@dataclass
class Harness:
    """Drives one app (ASGI or WSGI) with plain request calls.

    ``cookie`` is the session cookie's value (sent as ``<cookie_name>=<value>``);
    ``headers`` go through as raw bytes, so hostile input reaches the middleware intact.
    """

    kind: Kind
    app: Any
    store: SpyStore
    clock: FakeClock
    cookie_name: str = "session"
    peer: str = "127.0.0.1"
    root_path: str = ""
    runner: asyncio.Runner | None = None
    asgi_gates: AsyncGates = field(default_factory=AsyncGates)
    thread_gates: ThreadGates = field(default_factory=ThreadGates)

    @property
    def is_asgi(self) -> bool:
        return self.kind in ASGI_KINDS

    def _header_list(self, cookie: str | None, headers: HeaderList) -> list[tuple[bytes, bytes]]:
        raw = [(_b(k).lower(), _b(v)) for k, v in headers]
        if cookie is not None:
            raw.append((b"cookie", f"{self.cookie_name}={cookie}".encode("latin-1")))
        return raw

    def request(
        self,
        path: str,
        *,
        method: str = "GET",
        cookie: str | None = None,
        headers: HeaderList = (),
        https: bool = False,
        peer: str | None = None,
    ) -> Reply:
        raw = self._header_list(cookie, headers)
        if self.is_asgi:
            assert self.runner is not None
            return self.runner.run(self._asgi(path, method, raw, https, peer or self.peer))
        return self._wsgi(path, method, raw, https, peer or self.peer)

    async def arequest(
        self, path: str, *, method: str = "GET", cookie: str | None = None, headers: HeaderList = ()
    ) -> Reply:
        """For concurrent ASGI requests in one event loop (``asyncio.gather``)."""
        return await self._asgi(path, method, self._header_list(cookie, headers), False, self.peer)

    def run(self, coro: Awaitable[Any]) -> Any:
        assert self.runner is not None
        return self.runner.run(coro)  # type: ignore[arg-type]

    async def _asgi(self, path: str, method: str, raw: list[tuple[bytes, bytes]], https: bool, peer: str) -> Reply:
        transport = httpx.ASGITransport(self.app, root_path=self.root_path, client=(peer, 50123))
        scheme = "https" if https else "http"
        request = httpx.Request(method, f"{scheme}://testserver{self.root_path}{path}", headers=raw)
        response = await transport.handle_async_request(request)
        body = await response.aread()
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers.raw]
        return Reply(response.status_code, headers, body)

    def _wsgi(self, path: str, method: str, raw: list[tuple[bytes, bytes]], https: bool, peer: str) -> Reply:
        scheme = "https" if https else "http"
        path_only, _, query = path.partition("?")
        builder = EnvironBuilder(
            path=path_only,
            method=method,
            base_url=f"{scheme}://testserver{self.root_path}",
            query_string=quote(query, safe="=&%+"),
            environ_base={"REMOTE_ADDR": peer},
        )
        environ = builder.get_environ()
        builder.close()
        joined: dict[str, list[str]] = {}
        for key, value in raw:  # WSGI servers hand headers over as latin-1 text, joined
            name = "HTTP_" + key.decode("latin-1").upper().replace("-", "_")
            joined.setdefault(name, []).append(value.decode("latin-1"))
        for name, values in joined.items():
            environ[name] = ("; " if name == "HTTP_COOKIE" else ", ").join(values)
        app_iter, status, headers = run_wsgi_app(self.app, environ, buffered=True)
        try:
            body = b"".join(app_iter)
        finally:
            close = getattr(app_iter, "close", None)
            if close is not None:
                close()
        return Reply(int(status.split()[0]), list(headers.items()), body)


class Slow:
    """A request started in the background that stops at a gate after the app did its work
    (so it has loaded the session) and before the response starts (so nothing is saved
    yet); ``finish()`` releases it and returns its reply."""

    def __init__(self, harness: Harness, path: str, *, cookie: str | None, gate: str = "slow") -> None:
        self.harness = harness
        self.gate = gate
        url = f"{path}{'&' if '?' in path else '?'}_gate={gate}"
        self._reply: Reply | None = None
        self._error: BaseException | None = None
        if harness.is_asgi:
            assert harness.runner is not None
            self._task = harness.runner.get_loop().create_task(harness.arequest(url, cookie=cookie))
            harness.run(harness.asgi_gates.wait_arrival(gate))
        else:
            self._thread = threading.Thread(target=self._run, args=(url, cookie), daemon=True)
            self._thread.start()
            harness.thread_gates.wait_arrival(gate)

    def _run(self, url: str, cookie: str | None) -> None:
        try:
            self._reply = self.harness.request(url, cookie=cookie)
        except BaseException as exc:  # re-raised in finish()
            self._error = exc

    def finish(self) -> Reply:
        harness = self.harness
        if harness.is_asgi:
            harness.asgi_gates.release(self.gate)
            task = self._task

            async def wait() -> Reply:
                return await task

            reply: Reply = harness.run(wait())
            return reply
        harness.thread_gates.release(self.gate)
        self._thread.join(5)
        if self._error is not None:
            raise self._error
        assert self._reply is not None
        return self._reply


class Browser:
    """A one-cookie jar over a harness: sends the session cookie, applies Set-Cookie."""

    def __init__(self, harness: Harness, *, https: bool = False) -> None:
        self.harness = harness
        self.https = https
        self.cookie: str | None = None

    def get(self, path: str, **kwargs: Any) -> Reply:
        reply = self.harness.request(path, cookie=self.cookie, https=self.https, **kwargs)
        set_cookie = reply.cookie(self.harness.cookie_name)
        if set_cookie is not None:
            self.cookie = None if set_cookie.cleared else set_cookie.value
        return reply

    @property
    def session_id(self) -> str | None:
        return None if self.cookie is None else unsign(self.cookie)


def null_start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], object]:
    """A WSGI ``start_response`` for tests that only look at the body."""
    return lambda data: None


def build_app(kind: Kind, options: Mapping[str, Any], harness_gates: tuple[AsyncGates, ThreadGates]) -> Any:
    """The scenario app of ``kind`` wrapped in the matching middleware."""
    if kind == "asgi":
        return SessionMiddleware(raw_asgi_app(harness_gates[0]), **options)
    if kind == "wsgi":
        return WSGISessionMiddleware(raw_wsgi_app(harness_gates[1]), **options)
    if kind == "starlette":
        return starlette_app(options, harness_gates[0])
    return flask_app(options, harness_gates[1])


def seed(store: SpyStore, clock: FakeClock, *, user: Mapping[str, Any] | None = None, **data: Any) -> str:
    """A session written straight into the store; returns its id."""
    from session_middleware.records import encode_value, new_session_id

    record = SessionRecord(
        id=new_session_id(),
        opened=clock(),
        last_request=clock(),
        idle_timeout=24 * 3600.0,
        absolute_expiry=clock() + 14 * 24 * 3600.0,
        address="127.0.0.1",
        client="seeded",
        user=None if user is None else dict(user),
        data={k: encode_value(k, v) for k, v in data.items()},
    )
    assert store.inner.create(record)
    store.known[record.id] = None
    return record.id
