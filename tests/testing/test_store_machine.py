"""StoreLifecycle on every store, sync and async, and on seeded bugs it must find."""

from __future__ import annotations

import itertools

import pytest
import redis
from hypothesis.stateful import run_state_machine_as_test

from session_middleware import MemoryStore
from session_middleware.stores.base import Store
from session_middleware.stores.memory import RECENCY_GRANULARITY
from session_middleware.stores.redis import RedisStore
from session_middleware.testing import AsyncStoreLifecycle, FakeClock, StoreLifecycle
from tests.support.redis_server import RedisServer

from .buggy_stores import BUGGY_STORES, DictStore
from .conftest import HUNT, RUNS, rule_steps


class MemoryLifecycle(StoreLifecycle):
    def make_store(self, clock: FakeClock) -> Store:
        return MemoryStore(clock=clock)


class AsyncMemoryLifecycle(AsyncStoreLifecycle):
    def make_store(self, clock: FakeClock) -> Store:
        return MemoryStore(clock=clock)


class BoundedMemoryLifecycle(StoreLifecycle):
    """Three sessions at most: creating a fourth evicts the least recently used."""

    maxsize = 3
    recency_granularity = RECENCY_GRANULARITY

    def make_store(self, clock: FakeClock) -> Store:
        return MemoryStore(3, clock=clock)


class DictLifecycle(StoreLifecycle):
    """The plain store the seeded bugs are made from passes too: the bugs alone fail."""

    def make_store(self, clock: FakeClock) -> Store:
        return DictStore(clock=clock)


#: Every machine runs with the middleware's default touch interval and with 0 (touch on every load).
TOUCH_INTERVALS = pytest.mark.parametrize("touch_interval", [None, 0.0], ids=["default-interval", "interval-0"])


def with_interval(machine: type[StoreLifecycle], touch_interval: float | None) -> type[StoreLifecycle]:
    return type(machine.__name__, (machine,), {"touch_interval": touch_interval})


@TOUCH_INTERVALS
@pytest.mark.parametrize("machine", [MemoryLifecycle, AsyncMemoryLifecycle, BoundedMemoryLifecycle, DictLifecycle])
def test_correct_stores_pass(machine: type[StoreLifecycle], touch_interval: float | None) -> None:
    run_state_machine_as_test(with_interval(machine, touch_interval), settings=RUNS)


_prefixes = itertools.count()


@pytest.mark.redis
@TOUCH_INTERVALS
@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_redis_store_passes(redis_server: RedisServer, use_async: bool, touch_interval: float | None) -> None:
    cleanup = redis.Redis.from_url(redis_server.url)

    class RedisLifecycle(StoreLifecycle):
        def make_store(self, clock: FakeClock) -> Store:
            self.prefix = f"kit-store-{next(_prefixes)}:"
            return RedisStore(redis_server.url, prefix=self.prefix, clock=clock)

        def teardown(self) -> None:
            super().teardown()
            keys = list(cleanup.scan_iter(match=self.prefix + "*", count=500))
            if keys:
                cleanup.delete(*keys)

    RedisLifecycle.use_async = use_async
    RedisLifecycle.touch_interval = touch_interval
    try:
        run_state_machine_as_test(RedisLifecycle, settings=RUNS)
    finally:
        cleanup.close()


@pytest.mark.parametrize("bug", list(BUGGY_STORES))
def test_seeded_store_bugs_are_found(bug: str) -> None:
    store_class = BUGGY_STORES[bug]

    class Buggy(StoreLifecycle):
        def make_store(self, clock: FakeClock) -> Store:
            return store_class(clock=clock)

    with pytest.raises(AssertionError) as caught:
        run_state_machine_as_test(Buggy, settings=HUNT)
    # A shrunk counterexample: a handful of steps, printed as a program that replays the bug.
    steps = rule_steps(getattr(caught.value, "__notes__", []))
    assert steps, "no counterexample was reported"
    assert len(steps) <= 6, f"counterexample not shrunk: {steps}"
