"""The app stacks under test: a floor per family, our middleware, and the peers.

Every stack serves the same four paths, so one stack instance covers every scenario:
``/a`` leaves the session alone, ``/b`` reads key ``k``, ``/c`` writes key ``n`` (a new
value each time, so no library can skip the write), ``/set`` stores ``k = "v"`` (used
once to obtain a valid cookie). Families share a floor: the same app without sessions.
Our stacks also carry ``due_app``, the same middleware and store with
``touch_interval=0``, so that every request is due to record itself (scenario e).
Reference stacks add one raw redis-py ``GET`` per request to a floor: the round trip
that any Redis-backed read costs at least.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .drive import ASGIApp, Message, WSGIApp
from .redis_server import RedisServer

SECRET = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz"
LIFETIME = timedelta(days=14)


@dataclass
class Probe:
    """What the app read from the session on the last ``/b`` request (checked before timing)."""

    read: Any = None


@dataclass
class Stack:
    key: str
    label: str
    family: str  # "asgi", "wsgi" or "flask": cells of one family share the family's floor
    interface: str  # "asgi" or "wsgi"
    app: Any
    probe: Probe
    cookie_name: str = "session"
    is_floor: bool = False
    redis: RedisServer | None = None
    is_ours: bool = False
    #: A floor plus one Redis round trip: no session, its overhead is the round trip's.
    is_reference: bool = False
    #: Our middleware on the same store with ``touch_interval=0`` (every request records itself).
    due_app: Any = None
    #: The scenarios this stack runs (``None``: all).
    scenarios: tuple[str, ...] | None = None
    notes: str = ""
    closers: list[Callable[[], Any]] = field(default_factory=list)


def _start(body: bytes = b"ok") -> Message:
    return {
        "type": "http.response.start",
        "status": 200,
        "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
    }


_BODY: Message = {"type": "http.response.body", "body": b"ok", "more_body": False}


def raw_asgi_app(probe: Probe, *, sessions: bool = True) -> ASGIApp:
    counter = itertools.count()

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if sessions:
            path = scope["path"]
            if path == "/b":
                probe.read = scope["session"]["k"]
            elif path == "/c":
                scope["session"]["n"] = next(counter)
            elif path == "/set":
                scope["session"]["k"] = "v"
        await send(_start())
        await send(_BODY)

    return app


def raw_wsgi_app(probe: Probe, *, sessions: bool = True) -> WSGIApp:
    counter = itertools.count()
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if sessions:
            path = environ["PATH_INFO"]
            if path == "/b":
                probe.read = environ["session"]["k"]
            elif path == "/c":
                environ["session"]["n"] = next(counter)
            elif path == "/set":
                environ["session"]["k"] = "v"
        start_response("200 OK", list(headers))
        return [b"ok"]

    return app


def flask_app(name: str, probe: Probe, session: Callable[[], Any] | None) -> Any:
    """A Flask app with the four routes; ``session`` returns the session object to use."""
    from flask import Flask

    app = Flask(name)
    counter = itertools.count()

    @app.get("/a")
    def untouched() -> str:
        return "ok"

    @app.get("/b")
    def read() -> str:
        if session is not None:
            probe.read = session()["k"]
        return "ok"

    @app.get("/c")
    def write() -> str:
        if session is not None:
            session()["n"] = next(counter)
        return "ok"

    @app.get("/set")
    def setup() -> str:
        if session is not None:
            session()["k"] = "v"
        return "ok"

    return app


# -- ASGI family -------------------------------------------------------------------------


def asgi_floor() -> Stack:
    probe = Probe()
    return Stack(
        "asgi-floor", "raw ASGI app (floor)", "asgi", "asgi", raw_asgi_app(probe, sessions=False), probe, is_floor=True
    )


def _ours_asgi(probe: Probe, store: Any) -> tuple[Any, Any]:
    """Our ASGI middleware on ``store``, and the same with every request due for a touch."""
    from session_middleware import SessionMiddleware

    app = SessionMiddleware(raw_asgi_app(probe), secret_key=SECRET, store=store)
    due = SessionMiddleware(raw_asgi_app(probe), secret_key=SECRET, store=store, touch_interval=0)
    return app, due


def _ours_wsgi(app: WSGIApp, store: Any, *, touch_interval: float | None = None) -> Any:
    from session_middleware import WSGISessionMiddleware

    if touch_interval is None:
        return WSGISessionMiddleware(app, secret_key=SECRET, store=store)
    return WSGISessionMiddleware(app, secret_key=SECRET, store=store, touch_interval=touch_interval)


def ours_asgi_memory() -> Stack:
    from session_middleware import MemoryStore

    probe = Probe()
    app, due = _ours_asgi(probe, MemoryStore())
    return Stack("asgi-ours-memory", "ours, memory store", "asgi", "asgi", app, probe, is_ours=True, due_app=due)


def ours_asgi_redis(server: RedisServer) -> Stack:
    probe = Probe()
    store = our_redis_store(server)
    app, due = _ours_asgi(probe, store)
    return Stack(
        "asgi-ours-redis",
        "ours, Redis store",
        "asgi",
        "asgi",
        app,
        probe,
        redis=server,
        is_ours=True,
        due_app=due,
        closers=[store.aclose],
    )


#: The value the reference stacks read: the size of a small session as the peers store it.
GET_KEY, GET_VALUE = "bench:get", b"x" * 400


def asgi_redis_get(server: RedisServer) -> Stack:
    """The ASGI floor plus one ``GET`` through ``redis.asyncio`` per request with a cookie,
    on a client without a socket timeout: the cheapest round trip redis-py makes."""
    from redis.asyncio import Redis

    probe = Probe()
    # No socket timeout: with one, redis.asyncio sends every command through
    # asyncio.wait_for (a task and an event-loop turn), and redis-py 8.1's default is 5 s.
    client = Redis(host=server.host, port=server.port, socket_timeout=None)
    with server.client() as setup:
        setup.set(GET_KEY, GET_VALUE)

    async def app(scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        if any(name == b"cookie" for name, _ in scope["headers"]):
            probe.read = "v" if await client.get(GET_KEY) == GET_VALUE else None
        await send(_start())
        await send(_BODY)

    label = "raw ASGI app + one redis-py GET (the round-trip floor)"
    return Stack(
        "asgi-redis-get",
        label,
        "asgi",
        "asgi",
        app,
        probe,
        redis=server,
        is_reference=True,
        scenarios=("b",),
        closers=[client.aclose],
    )


def wsgi_redis_get(server: RedisServer) -> Stack:
    """The WSGI floor plus one ``GET`` through the sync ``redis.Redis`` per request with a cookie."""
    probe = Probe()
    client = server.client()
    client.set(GET_KEY, GET_VALUE)
    headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", "2")]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        if "HTTP_COOKIE" in environ:
            probe.read = "v" if client.get(GET_KEY) == GET_VALUE else None
        start_response("200 OK", list(headers))
        return [b"ok"]

    label = "raw WSGI app + one redis-py GET (the round-trip floor)"
    return Stack(
        "wsgi-redis-get",
        label,
        "wsgi",
        "wsgi",
        app,
        probe,
        redis=server,
        is_reference=True,
        scenarios=("b",),
        closers=[client.close],
    )


def starlette_cookie() -> Stack:
    from starlette.middleware.sessions import SessionMiddleware

    probe = Probe()
    app = SessionMiddleware(raw_asgi_app(probe), secret_key=SECRET, max_age=int(LIFETIME.total_seconds()))
    return Stack("asgi-starlette", "Starlette SessionMiddleware (cookie)", "asgi", "asgi", app, probe)


def starsessions_memory() -> Stack:
    from starsessions import InMemoryStore, SessionAutoloadMiddleware, SessionMiddleware

    probe = Probe()
    inner = SessionAutoloadMiddleware(raw_asgi_app(probe))
    app = SessionMiddleware(inner, store=InMemoryStore(), lifetime=LIFETIME, cookie_https_only=False)
    return Stack("asgi-starsessions-memory", "starsessions, memory store", "asgi", "asgi", app, probe)


def starsessions_redis(server: RedisServer) -> Stack:
    from redis.asyncio import Redis
    from starsessions import SessionAutoloadMiddleware, SessionMiddleware
    from starsessions.stores.redis import RedisStore

    probe = Probe()
    connection = Redis(host=server.host, port=server.port)
    store = RedisStore(connection=connection)
    inner = SessionAutoloadMiddleware(raw_asgi_app(probe))
    app = SessionMiddleware(inner, store=store, lifetime=LIFETIME, cookie_https_only=False)
    return Stack(
        "asgi-starsessions-redis",
        "starsessions, Redis store",
        "asgi",
        "asgi",
        app,
        probe,
        redis=server,
        closers=[connection.aclose],
    )


# -- raw WSGI family ---------------------------------------------------------------------


def wsgi_floor() -> Stack:
    probe = Probe()
    return Stack(
        "wsgi-floor", "raw WSGI app (floor)", "wsgi", "wsgi", raw_wsgi_app(probe, sessions=False), probe, is_floor=True
    )


def ours_wsgi_memory() -> Stack:
    from session_middleware import MemoryStore

    probe = Probe()
    store = MemoryStore()
    app = _ours_wsgi(raw_wsgi_app(probe), store)
    due = _ours_wsgi(raw_wsgi_app(probe), store, touch_interval=0)
    return Stack("wsgi-ours-memory", "ours, memory store", "wsgi", "wsgi", app, probe, is_ours=True, due_app=due)


def ours_wsgi_redis(server: RedisServer) -> Stack:
    probe = Probe()
    store = our_redis_store(server)
    app = _ours_wsgi(raw_wsgi_app(probe), store)
    due = _ours_wsgi(raw_wsgi_app(probe), store, touch_interval=0)
    return Stack(
        "wsgi-ours-redis",
        "ours, Redis store",
        "wsgi",
        "wsgi",
        app,
        probe,
        redis=server,
        is_ours=True,
        due_app=due,
        closers=[store.close],
    )


# -- Flask family ------------------------------------------------------------------------


def flask_floor() -> Stack:
    probe = Probe()
    app = flask_app("flask_floor", probe, None)  # no secret key: Flask's null session
    return Stack("flask-floor", "Flask without sessions (floor)", "flask", "wsgi", app.wsgi_app, probe, is_floor=True)


def _ours_flask(name: str, probe: Probe, store: Any) -> tuple[Any, Any]:
    """A Flask app with ``init_app`` on ``store`` (the view uses ``flask.session``, as the
    peers' do), and the same with ``touch_interval=0``."""
    from session_middleware.integrations.flask import init_app

    apps = []
    for suffix, options in (("", {}), ("_due", {"touch_interval": 0})):
        app = flask_app(name + suffix, probe, _flask_session)
        app.secret_key = SECRET
        app.permanent_session_lifetime = LIFETIME
        init_app(app, store=store, **options)
        apps.append(app.wsgi_app)
    return apps[0], apps[1]


def ours_flask_memory() -> Stack:
    from session_middleware import MemoryStore

    probe = Probe()
    app, due = _ours_flask("ours_flask_memory", probe, MemoryStore())
    return Stack("flask-ours-memory", "ours, memory store", "flask", "wsgi", app, probe, is_ours=True, due_app=due)


def ours_flask_redis(server: RedisServer) -> Stack:
    probe = Probe()
    store = our_redis_store(server)
    app, due = _ours_flask("ours_flask_redis", probe, store)
    return Stack(
        "flask-ours-redis",
        "ours, Redis store",
        "flask",
        "wsgi",
        app,
        probe,
        redis=server,
        is_ours=True,
        due_app=due,
        closers=[store.close],
    )


def _flask_session() -> Any:
    from flask import session

    return session


def flask_cookie() -> Stack:
    probe = Probe()
    app = flask_app("flask_cookie", probe, _flask_session)
    app.secret_key = SECRET
    app.permanent_session_lifetime = LIFETIME
    return Stack("flask-cookie", "Flask session (cookie)", "flask", "wsgi", app.wsgi_app, probe)


def flask_session_redis(server: RedisServer, *, refresh: bool) -> Stack:
    from flask_session import Session

    probe = Probe()
    name = "flask_session_refresh" if refresh else "flask_session"
    app = flask_app(name, probe, _flask_session)
    client = server.client()
    app.secret_key = SECRET
    app.config.update(
        SESSION_TYPE="redis",
        SESSION_REDIS=client,
        SESSION_KEY_PREFIX=f"{name}:",
        SESSION_PERMANENT=True,
        SESSION_REFRESH_EACH_REQUEST=refresh,
        PERMANENT_SESSION_LIFETIME=LIFETIME,
    )
    Session(app)
    key = "flask-session-redis-refresh" if refresh else "flask-session-redis"
    label = "Flask-Session, Redis" + (", refresh each request" if refresh else "")
    return Stack(key, label, "flask", "wsgi", app.wsgi_app, probe, redis=server, closers=[client.close])


# -- our Redis store (optional: built only when the store exists) -------------------------


def have_our_redis_store() -> bool:
    try:
        from session_middleware.stores import redis as _redis  # noqa: F401
    except ImportError:
        return False
    return True


def our_redis_store(server: RedisServer) -> Any:
    from session_middleware.stores.redis import RedisStore

    return RedisStore(server.url)


def all_stacks(server: RedisServer | None) -> Iterator[Stack]:
    """Every stack of the comparison; Redis ones only with a server."""
    yield asgi_floor()
    yield ours_asgi_memory()
    yield starlette_cookie()
    yield starsessions_memory()
    yield wsgi_floor()
    yield ours_wsgi_memory()
    yield flask_floor()
    yield ours_flask_memory()
    yield flask_cookie()
    if server is not None:
        yield asgi_redis_get(server)
        yield wsgi_redis_get(server)
        yield starsessions_redis(server)
        yield flask_session_redis(server, refresh=False)
        yield flask_session_redis(server, refresh=True)
        if have_our_redis_store():
            yield ours_asgi_redis(server)
            yield ours_wsgi_redis(server)
            yield ours_flask_redis(server)


def build(key: str, server: RedisServer | None) -> Stack:
    """One stack by key (for the end-to-end server process)."""
    factories: dict[str, Callable[[], Stack]] = {
        "asgi-floor": asgi_floor,
        "asgi-ours-memory": ours_asgi_memory,
        "asgi-starlette": starlette_cookie,
        "asgi-starsessions-memory": starsessions_memory,
        "wsgi-floor": wsgi_floor,
        "wsgi-ours-memory": ours_wsgi_memory,
        "flask-floor": flask_floor,
        "flask-ours-memory": ours_flask_memory,
        "flask-cookie": flask_cookie,
    }
    if server is not None:
        factories.update(
            {
                "asgi-ours-redis": lambda: ours_asgi_redis(server),
                "asgi-starsessions-redis": lambda: starsessions_redis(server),
                "wsgi-ours-redis": lambda: ours_wsgi_redis(server),
                "flask-ours-redis": lambda: ours_flask_redis(server),
                "flask-session-redis": lambda: flask_session_redis(server, refresh=False),
                "flask-session-redis-refresh": lambda: flask_session_redis(server, refresh=True),
            }
        )
    return factories[key]()
