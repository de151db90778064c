"""RedisStore behind the ASGI and WSGI middleware: round trips, damaged records, outages."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest

from session_middleware.records import session_tag, user_tag
from session_middleware.stores._redis_schema import Keys
from session_middleware.stores._redis_scripts import (
    CREATE,
    CREATE_INDEXED,
    DELETE,
    LOAD_AND_TOUCH,
    SAVE_CHANGES,
    SCRIPTS,
)
from session_middleware.stores.redis import RedisStore
from tests.support.redis_server import CommandRecorder, RedisClusterNodes, RedisServer

from .apps import API_TOKEN, Browser, make_app

pytestmark = pytest.mark.redis

KINDS = ["asgi", "wsgi"]
TIMEOUT = 0.5  # the stores' socket and connect timeouts in this module
BUDGET = 3 * TIMEOUT  # the longest any request may take while Redis is down or hung
CONNECTION_SETUP = {"HELLO", "CLIENT", "AUTH", "SELECT", "READONLY"}


class Site:
    """An app (ASGI or WSGI) over a RedisStore, and browsers to visit it."""

    def __init__(self, kind: str, store: RedisStore, runner: asyncio.Runner, **app_options: Any) -> None:
        self.kind, self.store, self.runner = kind, store, runner
        app_options.setdefault("api_path", "/sessions")
        self.app = make_app(kind, store, **app_options)
        self.browsers: list[Browser] = []

    def browser(self) -> Browser:
        browser = Browser(self.kind, self.app, self.runner)
        self.browsers.append(browser)
        return browser

    def close(self) -> None:
        for browser in self.browsers:
            browser.close()
        self.store.close()
        self.runner.run(self.store.aclose())


@pytest.fixture
def site_factory(async_runner: asyncio.Runner) -> Iterator[Any]:
    sites: list[Site] = []

    def make(kind: str, url: str, app_options: dict[str, Any] | None = None, **options: Any) -> Site:
        options.setdefault("socket_timeout", TIMEOUT)
        options.setdefault("connect_timeout", TIMEOUT)
        site = Site(kind, RedisStore(url, **options), async_runner, **(app_options or {}))
        sites.append(site)
        return site

    yield make
    for site in sites:
        site.close()


def session_id(browser: Browser) -> str:
    return str(browser.cookies["session"]).split(".")[0]


# -- round trips -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("backend", ["redis", "cluster"])
@pytest.mark.parametrize("touch_interval", [None, 0])
def test_a_reading_request_costs_one_command_and_a_writing_one_two(
    kind: str, backend: str, touch_interval: float | None, site_factory: Any, request: pytest.FixtureRequest
) -> None:
    app_options = {} if touch_interval is None else {"touch_interval": touch_interval}
    if backend == "cluster":
        cluster: RedisClusterNodes = request.getfixturevalue("redis_cluster")
        servers, site = cluster.nodes, site_factory(kind, cluster.url, app_options, cluster=True)
    else:
        server: RedisServer = request.getfixturevalue("private_redis_server")
        servers, site = [server], site_factory(kind, server.url, app_options)
    for server in servers:  # each server runs a script by EVAL the first time: do that now
        raw = server.client()
        assert [raw.script_load(script.lua) for script in SCRIPTS] == [script.sha for script in SCRIPTS]
        raw.close()
    browser = site.browser()
    assert browser.get("/write?key=a&value=1").json()["data"] == {"a": "1"}  # opens connections
    with ExitStack() as stack:
        recorders = [stack.enter_context(CommandRecorder(s)) for s in servers]

        def sent(path: str, visitor: Browser = browser) -> list[tuple[str, bytes]]:
            for recorder in recorders:
                recorder.reset()
            assert visitor.get(path).status_code == 200
            commands = [(c[0].decode().upper(), c[1] if len(c) > 1 else b"") for r in recorders for c in r.commands()]
            # A connection's first use (here, to a cluster node not used before) opens with a
            # handshake: a cost per connection, not per request.
            return sorted(c for c in commands if c[0] not in CONNECTION_SETUP)

        def read(visitor: Browser) -> tuple[str, bytes]:
            """A read: within the default touch interval (60 s) a plain HGETALL, else the script."""
            if touch_interval == 0:
                return ("EVALSHA", LOAD_AND_TOUCH.sha.encode())
            return ("HGETALL", Keys(site.store.prefix).session(session_id(visitor)).encode())

        save, create, delete, create_indexed = (
            ("EVALSHA", script.sha.encode()) for script in (SAVE_CHANGES, CREATE, DELETE, CREATE_INDEXED)
        )
        assert sent("/") == [read(browser)]
        assert sent("/") == [read(browser)]
        assert sent("/write?key=b&value=3") == sorted([read(browser), save])
        assert sent("/write?key=b&value=3") == [read(browser)]  # nothing changed: nothing written
        assert sent("/public", site.browser()) == []  # no cookie: no store at all
        newcomer = site.browser()
        assert sent("/write?key=c&value=4", newcomer) == [create]  # a new anonymous session
        before = read(newcomer)
        assert sent("/login?user=ada", newcomer) == sorted([before, delete, create_indexed])
        assert session_tag(session_id(newcomer)) == user_tag("ada")  # the new id is in ada's slot


# -- damaged records ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_damaged_record_gives_a_fresh_session_not_an_error(
    kind: str, site_factory: Any, redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    site = site_factory(kind, redis_server.url, prefix=f"damaged-{kind}:")
    browser = site.browser()
    browser.get("/login?user=alice")
    browser.get("/write?key=k&value=v")
    key = Keys(site.store.prefix).session(session_id(browser))
    raw = redis_server.client()
    raw.hset(key, "d:k", "{not json")
    response = browser.get("/")
    assert response.status_code == 200 and response.json() == {"user": None, "data": {}, "pid": response.json()["pid"]}
    assert 'session=""' in response.headers["set-cookie"] or "Max-Age=0" in response.headers["set-cookie"]
    assert raw.exists(key) == 0
    assert any(r.name == "session_middleware.security" for r in caplog.records)
    raw.close()


# -- outages -----------------------------------------------------------------------------


def _outage(server: RedisServer, how: str) -> None:
    if how == "kill":
        server.kill()
    elif how == "shutdown":
        try:
            server.command("SHUTDOWN", "NOSAVE")
        except OSError:
            pass  # the server closes the connection as it goes
        assert server.process is not None
        server.process.wait(timeout=5)
    else:
        server.pause()


def _timed(browser: Browser, path: str, **kwargs: Any) -> tuple[Any, float]:
    started = time.monotonic()
    response = browser.get(path, **kwargs)
    return response, time.monotonic() - started


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("how", ["kill", "shutdown", "pause"])
def test_an_outage_gives_quick_503s_and_heals_by_itself(
    kind: str, how: str, site_factory: Any, private_redis_server: RedisServer
) -> None:
    server = private_redis_server
    site = site_factory(kind, server.url)
    user, stranger = site.browser(), site.browser()
    assert user.get("/write?key=a&value=1").status_code == 200
    cookie = user.cookies["session"]

    _outage(server, how)
    for _ in range(3):
        response, elapsed = _timed(user, "/")
        assert response.status_code == 503 and response.headers["retry-after"].isdigit()
        assert "set-cookie" not in response.headers and user.cookies["session"] == cookie
        assert elapsed < BUDGET, f"a request took {elapsed:.2f}s while Redis was down"
    response, elapsed = _timed(stranger, "/")  # no cookie: the store is never asked
    assert response.status_code == 200 and response.json()["data"] == {} and elapsed < BUDGET
    response, elapsed = _timed(stranger, "/sessions/alice", headers={"Authorization": f"Bearer {API_TOKEN}"})
    assert response.status_code == 503 and response.json()["code"] == "STORE_UNAVAILABLE" and elapsed < BUDGET

    if how == "pause":
        server.resume()
        assert user.get("/").json()["data"] == {"a": "1"}  # nothing was lost
    else:
        server.restart()  # same port, empty: the session is gone, the app carries on
        response = user.get("/")
        assert response.status_code == 200 and response.json()["data"] == {}
    assert user.get("/write?key=b&value=2").status_code == 200
    assert user.get("/").json()["data"].get("b") == "2"
    assert stranger.get("/sessions/alice", headers={"Authorization": f"Bearer {API_TOKEN}"}).status_code == 200
