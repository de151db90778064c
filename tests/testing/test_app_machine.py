"""AppLifecycle on raw ASGI and WSGI, Starlette and Flask, memory and Redis, and on seeded bugs."""

from __future__ import annotations

import itertools

import pytest
import redis
from hypothesis.stateful import RuleBasedStateMachine, run_state_machine_as_test

from session_middleware import SessionMiddleware
from session_middleware.stores.base import Store
from session_middleware.stores.memory import MemoryStore
from session_middleware.stores.redis import RedisStore
from session_middleware.testing import AppClient, AppLifecycle, FakeClock
from session_middleware.testing.probes import probe_asgi_app
from tests.support.redis_server import RedisServer

from .apps import FlaskApp, RawASGI, RawWSGI, StarletteApp
from .broken import api_that_revokes_nothing, login_keeping_the_old_id
from .buggy_stores import IndexKeepsExpired, SaveFromStaleRead, TouchDoesNotSlide
from .conftest import HUNT, RUNS, rule_steps


class CappedASGI(RawASGI):
    """At most two sessions per user: a third login closes the least recently used."""

    max_sessions_per_user = 2


class CappedWSGI(RawWSGI):
    max_sessions_per_user = 2


class EveryRequestTouchesASGI(RawASGI):
    """touch_interval=0: every request refreshes last_request (the default is 60 s here)."""

    touch_interval = 0.0


class EveryRequestTouchesWSGI(RawWSGI):
    touch_interval = 0.0


@pytest.mark.parametrize(
    "machine",
    [
        RawASGI,
        RawWSGI,
        StarletteApp,
        FlaskApp,
        CappedASGI,
        CappedWSGI,
        EveryRequestTouchesASGI,
        EveryRequestTouchesWSGI,
    ],
)
def test_apps_follow_the_lifecycle(machine: type[AppLifecycle]) -> None:
    run_state_machine_as_test(machine, settings=RUNS)


_prefixes = itertools.count()


@pytest.mark.redis
@pytest.mark.parametrize("base", [RawASGI, RawWSGI], ids=["asgi", "wsgi"])
def test_apps_on_redis_follow_the_lifecycle(redis_server: RedisServer, base: type[RawASGI]) -> None:
    cleanup = redis.Redis.from_url(redis_server.url)

    class OnRedis(base):  # type: ignore[valid-type,misc]
        def make_store(self, clock: FakeClock) -> Store:
            self.prefix = f"kit-app-{next(_prefixes)}:"
            self.redis_store = RedisStore(redis_server.url, prefix=self.prefix, clock=clock)
            return self.redis_store

        def teardown(self) -> None:
            if base is RawASGI:
                self.client.run(self.redis_store.aclose())
            self.redis_store.close()
            super().teardown()
            keys = list(cleanup.scan_iter(match=self.prefix + "*", count=500))
            if keys:
                cleanup.delete(*keys)

    try:
        run_state_machine_as_test(OnRedis, settings=RUNS)
    finally:
        cleanup.close()


def _hunt(machine: type[RuleBasedStateMachine]) -> AssertionError:
    """Run a machine that must fail; return its error after checking the counterexample."""
    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(machine, settings=HUNT)
    steps = rule_steps(getattr(caught.value, "__notes__", []))
    assert steps, "no counterexample was reported"
    assert len(steps) <= 6, f"counterexample not shrunk: {steps}"
    return caught.value


@pytest.mark.parametrize("base", [RawASGI, RawWSGI], ids=["asgi", "wsgi"])
def test_a_login_that_keeps_the_old_id_is_found(monkeypatch: pytest.MonkeyPatch, base: type[AppLifecycle]) -> None:
    with login_keeping_the_old_id(monkeypatch):
        error = _hunt(base)
    assert "keeps the old session id" in str(error)


def test_a_revoke_that_leaves_the_session_loadable_is_found() -> None:
    class RevokesNothing(AppLifecycle):
        def make_client(self, clock: FakeClock) -> AppClient:
            store = MemoryStore(clock=clock)
            options = self.session_options(clock, store=store)
            api_options = {k: options[k] for k in ("api_token", "idle_timeout", "absolute_timeout")}
            app = api_that_revokes_nothing(store, probe_asgi_app(), **api_options)
            return AppClient.asgi(SessionMiddleware(app, **{**options, "api_path": None}))

    _hunt(RevokesNothing)


@pytest.mark.parametrize(
    "store_class",
    [IndexKeepsExpired, TouchDoesNotSlide, SaveFromStaleRead],
    ids=["index keeps expired sessions", "touch does not slide the expiry", "save drops a concurrent key"],
)
def test_store_bugs_are_found_through_the_app(store_class: type[Store]) -> None:
    class OnBuggyStore(RawASGI):
        def make_store(self, clock: FakeClock) -> Store:
            return store_class(clock=clock)  # type: ignore[call-arg]

    _hunt(OnBuggyStore)
