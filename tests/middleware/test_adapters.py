"""ASGI and WSGI protocol details: scopes, streaming, websockets, lifespan and the API mount."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket

import session_middleware._mount
from session_middleware import MemoryStore, Session, SessionMiddleware, WSGISessionMiddleware
from session_middleware.stores.base import loads_inline

from .support import KEY, FakeClock, SpyStore, null_start_response, parse_set_cookie, seed, sign, unsign, view

Message = dict[str, Any]


def run_asgi(app: Any, scope: dict[str, Any], inbound: list[Message] | None = None) -> list[Message]:
    """Call an ASGI app once with ``scope``; return every message it sent."""
    sent: list[Message] = []
    queue = list(inbound or [{"type": "http.request", "body": b""}])

    async def receive() -> Message:
        if queue:
            return queue.pop(0)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def http_scope(**overrides: Any) -> dict[str, Any]:
    scope: dict[str, Any] = {"type": "http", "method": "GET", "path": "/", "headers": [], "query_string": b""}
    scope.update(overrides)
    return scope


def set_cookies(start: Message) -> list[str]:
    return [v.decode() for k, v in start.get("headers", []) if k.lower() == b"set-cookie"]


def writing_app(scope: Any, receive: Any, send: Any) -> Any:
    async def app() -> None:
        scope["session"]["a"] = 1
        await send({"type": "http.response.start", "status": 200})
        await send({"type": "http.response.body", "body": b"ok"})

    return app()


@pytest.fixture
def spy(clock: FakeClock) -> SpyStore:
    return SpyStore(MemoryStore(clock=clock))


# -- ASGI scopes ---------------------------------------------------------------------


def test_asgi_scope_without_scheme_client_or_root_path(spy: SpyStore) -> None:
    """``scheme``, ``client`` and ``root_path`` are optional in the ASGI spec."""
    app = SessionMiddleware(writing_app, secret_key=KEY, store=spy)
    start, body = run_asgi(app, http_scope())
    assert start["status"] == 200 and body["body"] == b"ok"
    (cookie,) = set_cookies(start)
    assert "Secure" not in cookie  # scheme defaults to http
    record = spy.peek(unsign(parse_set_cookie(cookie).value) or "")
    assert record is not None and record.address == "" and record.client == ""


def test_asgi_https_scope_gets_a_secure_cookie(spy: SpyStore) -> None:
    app = SessionMiddleware(writing_app, secret_key=KEY, store=spy)
    start, _ = run_asgi(app, http_scope(scheme="https"))
    assert parse_set_cookie(set_cookies(start)[0]).attrs.get("secure") is True


def test_asgi_cookie_split_over_several_header_fields(spy: SpyStore, clock: FakeClock) -> None:
    """HTTP/2 may send one ``cookie`` field per cookie; they are joined (RFC 9113)."""
    session_id = seed(spy, clock, a=1)
    seen: list[Session] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["session"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    middleware = SessionMiddleware(app, secret_key=KEY, store=spy)
    headers = [(b"cookie", b"theme=dark"), (b"cookie", f"session={sign(session_id)}".encode()), (b"cookie", b"x=1")]
    run_asgi(middleware, http_scope(headers=headers))
    assert seen[0].is_new is False and seen[0]["a"] == 1


def test_asgi_streamed_response_commits_once(spy: SpyStore) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["session"]["a"] = 1
        await send({"type": "http.response.start", "status": 200, "headers": [(b"Vary", b"Accept")]})
        for chunk in (b"a", b"b", b"c"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            scope["session"]["late"] = True  # after the start: documented as not saved
        await send({"type": "http.response.body", "body": b""})

    sent = run_asgi(SessionMiddleware(app, secret_key=KEY, store=spy), http_scope())
    assert [m["type"] for m in sent] == ["http.response.start"] + ["http.response.body"] * 4
    assert b"".join(m.get("body", b"") for m in sent[1:]) == b"abc"
    assert spy.calls == ["create"]
    headers = dict((k.decode(), v.decode()) for k, v in sent[0]["headers"])
    assert headers["vary"] == "Accept, Cookie" and headers["cache-control"] == "no-store"
    record = spy.peek(unsign(parse_set_cookie(set_cookies(sent[0])[0]).value) or "")
    assert record is not None and record.decoded_data() == {"a": 1}


def test_lifespan_passes_through_untouched(spy: SpyStore) -> None:
    seen: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope))
        assert (await receive())["type"] == "lifespan.startup"
        await send({"type": "lifespan.startup.complete"})

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}}
    sent = run_asgi(SessionMiddleware(app, secret_key=KEY, store=spy), scope, [{"type": "lifespan.startup"}])
    assert sent == [{"type": "lifespan.startup.complete"}]
    assert seen == [scope] and "session" not in seen[0]
    assert spy.calls == []


def test_starlette_lifespan_runs_through_the_middleware(spy: SpyStore) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(lifespan=lifespan)
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=spy)
    inbound: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent = run_asgi(app, {"type": "lifespan", "asgi": {"version": "3.0"}}, inbound)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["startup", "shutdown"] and spy.calls == []


# -- websockets ----------------------------------------------------------------------


def _ws_app(write: bool) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        assert scope["type"] == "websocket"
        assert (await receive())["type"] == "websocket.connect"
        session: Session = scope["session"]
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": json.dumps(view(session))})
        if write:
            session["from_ws"] = True
        await send({"type": "websocket.close", "code": 1000})

    return app


def ws_scope(cookie: str | None) -> dict[str, Any]:
    headers = [] if cookie is None else [(b"cookie", f"session={cookie}".encode())]
    return {"type": "websocket", "path": "/ws", "headers": headers, "scheme": "ws", "query_string": b""}


def test_websocket_reads_the_session_and_saves_its_changes(spy: SpyStore, clock: FakeClock) -> None:
    session_id = seed(spy, clock, user={"id": "u1"}, a=1)
    app = SessionMiddleware(_ws_app(write=True), secret_key=KEY, store=spy)
    sent = run_asgi(app, ws_scope(sign(session_id)), [{"type": "websocket.connect"}])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    page = json.loads(sent[1]["text"])
    assert page["user_id"] == "u1" and page["data"] == {"a": 1}
    assert all("headers" not in m for m in sent)  # no Set-Cookie can travel here
    record = spy.peek(session_id)
    assert record is not None and record.decoded_data() == {"a": 1, "from_ws": True}


def test_websocket_never_creates_a_session(spy: SpyStore) -> None:
    app = SessionMiddleware(_ws_app(write=True), secret_key=KEY, store=spy)
    sent = run_asgi(app, ws_scope(None), [{"type": "websocket.connect"}])
    assert json.loads(sent[1]["text"])["is_new"] is True
    assert spy.calls == [] and len(spy) == 0


def test_websocket_with_a_stale_cookie_is_anonymous(spy: SpyStore) -> None:
    app = SessionMiddleware(_ws_app(write=False), secret_key=KEY, store=spy)
    sent = run_asgi(app, ws_scope(sign("A" * 43)), [{"type": "websocket.connect"}])
    assert json.loads(sent[1]["text"])["is_new"] is True


def test_websocket_store_failure_closes_with_try_again_later(spy: SpyStore, clock: FakeClock) -> None:
    session_id = seed(spy, clock, a=1)
    spy.failing.add("*")
    called: list[bool] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(True)

    sent = run_asgi(SessionMiddleware(app, secret_key=KEY, store=spy), ws_scope(sign(session_id)))
    assert sent == [{"type": "websocket.close", "code": 1013}] and called == []


def test_websocket_save_failure_is_logged_not_raised(
    spy: SpyStore, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    session_id = seed(spy, clock, a=1)
    spy.failing.add("save_changes")
    app = SessionMiddleware(_ws_app(write=True), secret_key=KEY, store=spy)
    sent = run_asgi(app, ws_scope(sign(session_id)), [{"type": "websocket.connect"}])
    assert sent[-1]["type"] == "websocket.close"
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("StoreError during saving a websocket's session" in line for line in warnings)


def test_starlette_websocket_route_sees_the_session(spy: SpyStore, clock: FakeClock) -> None:
    session_id = seed(spy, clock, user={"id": "u7", "name": "Grace"}, n=3)

    async def endpoint(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_json({"user": websocket.session.user, "n": websocket.session["n"]})  # type: ignore[attr-defined]
        websocket.session["n"] += 1
        await websocket.close()

    app = Starlette(routes=[WebSocketRoute("/ws", endpoint)])
    app.add_middleware(SessionMiddleware, secret_key=KEY, store=spy)
    sent = run_asgi(app, ws_scope(sign(session_id)), [{"type": "websocket.connect"}])
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert json.loads(sent[1]["text"]) == {"user": {"id": "u7", "name": "Grace"}, "n": 3}
    record = spy.peek(session_id)
    assert record is not None and record.decoded_data() == {"n": 4}


# -- WSGI protocol -------------------------------------------------------------------


class Server:
    """A minimal WSGI server call that records every ``start_response``."""

    def __init__(self) -> None:
        self.starts: list[tuple[str, list[tuple[str, str]], Any]] = []

    def start_response(self, status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        self.starts.append((status, list(headers), exc_info))
        return self.written.append

    def __call__(self, app: Any, cookie: str | None = None, https: bool = False) -> bytes:
        self.written: list[bytes] = []
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": "/",
            "SCRIPT_NAME": "",
            "QUERY_STRING": "",
            "wsgi.url_scheme": "https" if https else "http",
            "REMOTE_ADDR": "127.0.0.1",
        }
        if cookie is not None:
            environ["HTTP_COOKIE"] = f"session={cookie}"
        result = app(environ, self.start_response)
        try:
            return b"".join(self.written) + b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()


def session_cookie(headers: list[tuple[str, str]]) -> str | None:
    values = [v for k, v in headers if k.lower() == "set-cookie"]
    return values[0] if values else None


def test_wsgi_generator_app_that_starts_lazily(spy: SpyStore) -> None:
    closed: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        try:
            environ["session"]["a"] = 1
            start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"one"
            yield b"two"
        finally:
            closed.append(True)

    server = Server()
    body = server(WSGISessionMiddleware(app, secret_key=KEY, store=spy))
    assert body == b"onetwo" and closed == [True]
    ((status, headers, _),) = server.starts
    assert status == "200 OK" and session_cookie(headers) is not None
    assert spy.calls == ["create"]


def test_wsgi_app_using_the_write_callable(spy: SpyStore) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["session"]["a"] = 1
        write = start_response("200 OK", [])
        write(b"written ")
        return [b"returned"]

    server = Server()
    assert server(WSGISessionMiddleware(app, secret_key=KEY, store=spy)) == b"written returned"
    assert session_cookie(server.starts[0][1]) is not None


def test_wsgi_second_start_response_with_exc_info_passes_through(spy: SpyStore) -> None:
    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["session"]["a"] = 1
        start_response("200 OK", [])
        try:
            raise ValueError("late failure")
        except ValueError:
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
        return [b"error page"]

    server = Server()
    assert server(WSGISessionMiddleware(app, secret_key=KEY, store=spy)) == b"error page"
    assert [s[0] for s in server.starts] == ["200 OK", "500 Internal Server Error"]
    assert server.starts[1][2] is not None
    assert spy.calls == ["create"]  # committed once, on the first start


def test_wsgi_lazy_start_with_a_failing_store_answers_503(spy: SpyStore, clock: FakeClock) -> None:
    session_id = seed(spy, clock, a=1)
    closed: list[bool] = []

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        try:
            environ["session"]["a"] = 2
            spy.failing.add("save_changes")
            start_response("200 OK", [])
            yield b"secret page"
        finally:
            closed.append(True)

    server = Server()
    body = server(WSGISessionMiddleware(app, secret_key=KEY, store=spy), cookie=sign(session_id))
    ((status, headers, _),) = server.starts
    assert status.startswith("503") and dict(headers)["Retry-After"] == "2"
    assert session_cookie(headers) is None
    assert b"secret" not in body and closed == [True]


@pytest.mark.parametrize("chunks", [[], [b""], [b"", b""]])
def test_wsgi_lazy_start_with_no_body_still_gets_the_503_body(
    spy: SpyStore, clock: FakeClock, chunks: list[bytes]
) -> None:
    """A generator that starts the response and yields no data (a 204, a redirect)."""
    session_id = seed(spy, clock, a=1)

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        environ["session"]["a"] = 2
        spy.failing.add("save_changes")
        start_response("204 No Content", [])
        yield from chunks

    server = Server()
    body = server(WSGISessionMiddleware(app, secret_key=KEY, store=spy), cookie=sign(session_id))
    ((status, headers, _),) = server.starts
    assert status.startswith("503")
    assert len(body) == int(dict(headers)["Content-Length"]) > 0


def test_wsgi_failing_store_in_start_response_replaces_the_response(spy: SpyStore, clock: FakeClock) -> None:
    session_id = seed(spy, clock, a=1)
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"secret page"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        environ["session"]["a"] = 2
        spy.failing.add("save_changes")
        write = start_response("200 OK", [])
        write(b"secret written")
        return Body()

    server = Server()
    body = server(WSGISessionMiddleware(app, secret_key=KEY, store=spy), cookie=sign(session_id))
    assert server.starts[0][0].startswith("503") and b"secret" not in body and closed == [True]


# -- the REST API mount --------------------------------------------------------------


@pytest.fixture
def fake_api(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A stand-in REST API recording what the middleware's mount hands the sub-app."""
    calls: list[dict[str, Any]] = []

    def create_asgi_app(store: Any, **options: Any) -> Any:
        async def api(scope: Any, receive: Any, send: Any) -> None:
            calls.append({"root_path": scope["root_path"], "path": scope["path"], "session": scope["session"]})
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"api"})

        calls.append({"options": options, "store": store})
        return api

    def create_wsgi_app(store: Any, **options: Any) -> Any:
        def api(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            calls.append(
                {"root_path": environ["SCRIPT_NAME"], "path": environ["PATH_INFO"], "session": environ["session"]}
            )
            start_response("200 OK", [])
            return [b"api"]

        calls.append({"options": options, "store": store})
        return api

    monkeypatch.setattr(session_middleware._mount, "create_asgi_app", create_asgi_app)
    monkeypatch.setattr(session_middleware._mount, "create_wsgi_app", create_wsgi_app)
    return calls


def _plain_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"app"]


async def _plain_asgi(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"app"})


@pytest.mark.parametrize(
    ("root", "path", "to_api", "inner"),
    [
        ("", "/sessions", True, ""),
        ("", "/sessions/u1", True, "/u1"),
        ("/app", "/app/sessions/u1", True, "/u1"),
        ("", "/sessionsX", False, None),
        ("", "/x/sessions", False, None),
        ("", "/", False, None),
    ],
)
def test_asgi_mount(
    fake_api: list[dict[str, Any]], spy: SpyStore, root: str, path: str, to_api: bool, inner: str | None
) -> None:
    app = SessionMiddleware(
        _plain_asgi, secret_key=KEY, store=spy, api_token="t0ken", idle_timeout=60, api_path="/sessions"
    )
    start, body = run_asgi(app, http_scope(path=path, root_path=root))
    assert body["body"] == (b"api" if to_api else b"app")
    if to_api:
        options, request = fake_api
        assert options["store"] is spy and options["options"]["api_token"] == "t0ken"
        assert options["options"]["policy"].idle_timeout == 60
        assert request["root_path"] == root + "/sessions" and request["path"] == path
        assert request["path"][len(request["root_path"]) :] == inner
        assert isinstance(request["session"], Session)


@pytest.mark.parametrize(
    ("script", "path", "to_api", "inner"),
    [
        ("", "/sessions", True, ""),
        ("", "/sessions/u1", True, "/u1"),
        ("/app", "/sessions/u1", True, "/u1"),
        ("", "/sessionsX", False, None),
    ],
)
def test_wsgi_mount(
    fake_api: list[dict[str, Any]], spy: SpyStore, script: str, path: str, to_api: bool, inner: str | None
) -> None:
    app = WSGISessionMiddleware(_plain_wsgi, secret_key=KEY, store=spy, api_path="/sessions/")
    environ = {"PATH_INFO": path, "SCRIPT_NAME": script, "REQUEST_METHOD": "GET", "wsgi.url_scheme": "http"}
    body = b"".join(app(environ, null_start_response))
    assert body == (b"api" if to_api else b"app")
    if to_api:
        request = fake_api[1]
        assert request["root_path"] == script + "/sessions" and request["path"] == inner


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
@pytest.mark.parametrize("options", [{}, {"api_path": None}], ids=["default", "none"])
def test_api_path_none_mounts_nothing(
    fake_api: list[dict[str, Any]], spy: SpyStore, kind: str, options: dict[str, Any]
) -> None:
    if kind == "asgi":
        app: Any = SessionMiddleware(_plain_asgi, secret_key=KEY, store=spy, **options)
        _, body = run_asgi(app, http_scope(path="/sessions/u1"))
        assert body["body"] == b"app"
    else:
        wsgi = WSGISessionMiddleware(_plain_wsgi, secret_key=KEY, store=spy, **options)
        environ = {"PATH_INFO": "/sessions/u1", "REQUEST_METHOD": "GET", "wsgi.url_scheme": "http"}
        assert b"".join(wsgi(environ, null_start_response)) == b"app"
    assert fake_api == []


def test_asgi_loads_inline_only_from_a_store_whose_async_load_is_its_sync_one() -> None:
    """The memory store's async load only calls its sync load, so the ASGI adapter calls
    that directly; a subclass that overrides the async load (instrumentation, say) has
    its override awaited on every request."""
    awaited: list[str] = []

    class Instrumented(MemoryStore):
        async def aload_and_touch(self, session_id: str, **options: Any) -> Any:
            awaited.append(session_id)
            return await super().aload_and_touch(session_id, **options)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        scope["session"]["seen"] = scope["session"].get("seen", 0) + 1
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body"})

    for store, inline in ((MemoryStore(), True), (Instrumented(), False)):
        assert loads_inline(store) is inline
        middleware = SessionMiddleware(app, secret_key=KEY, store=store)
        [start, _] = run_asgi(middleware, http_scope())
        cookie = set_cookies(start)[0].split(";", 1)[0]
        run_asgi(middleware, http_scope(headers=[(b"cookie", cookie.encode())]))
        record = store.load_and_touch(unsign(cookie.partition("=")[2]) or "")
        assert record is not None and record.data["seen"] == "2"  # the second request read the first's write
    assert len(awaited) == 1
