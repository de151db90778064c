"""Fixtures of the store suite: stores of every kind on a fake clock, and Redis servers.

Redis clients are made once per test session (a cluster client costs ~0.1 s to discover
its topology) and the async ones all live on one event loop, ``async_runner``; each test
still gets stores of its own through a fresh key prefix and clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from session_middleware import MemoryStore
from session_middleware.stores.redis import RedisStore
from tests.support import fixtures
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisClusterNodes, RedisServer

from .contract import AsyncTwin

redis_server = fixtures.redis_server
redis_cluster = fixtures.redis_cluster
private_redis_server = fixtures.private_redis_server
redis_prefix = fixtures.redis_prefix

#: Every store the contract runs on, as "backend-api".
VARIANTS = ["memory-sync", "memory-async", "redis-sync", "redis-async", "cluster-sync", "cluster-async"]
REDIS_VARIANTS = [v for v in VARIANTS if not v.startswith("memory")]
TIMEOUTS: dict[str, Any] = {"socket_timeout": 2.0, "socket_connect_timeout": 2.0}

MakeStore = Callable[..., Any]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def async_runner() -> Iterator[asyncio.Runner]:
    """The event loop every async store test of the session runs on."""
    with asyncio.Runner() as runner:
        yield runner


@pytest.fixture(scope="session")
def redis_clients(redis_server: RedisServer, async_runner: asyncio.Runner) -> Iterator[tuple[Any, Any]]:
    """Sync and async clients of the shared single server: bytes replies over RESP2 (the
    cluster clients cover str replies over RESP3, the default of the redis-py pinned here)."""
    sync = redis.Redis.from_url(redis_server.url, protocol=2, **TIMEOUTS)
    async_ = redis.asyncio.Redis.from_url(redis_server.url, protocol=2, **TIMEOUTS)
    yield sync, async_
    sync.close()
    async_runner.run(async_.aclose())


@pytest.fixture(scope="session")
def cluster_clients(redis_cluster: RedisClusterNodes, async_runner: asyncio.Runner) -> Iterator[tuple[Any, Any]]:
    """Sync and async clients of the shared cluster: str replies (``decode_responses``) over RESP3."""
    sync = redis.cluster.RedisCluster.from_url(redis_cluster.url, decode_responses=True, **TIMEOUTS)
    async_ = redis.asyncio.cluster.RedisCluster.from_url(redis_cluster.url, decode_responses=True, **TIMEOUTS)
    yield sync, async_
    sync.close()
    async_runner.run(async_.aclose())


@pytest.fixture
def make_store(
    request: pytest.FixtureRequest, clock: FakeClock, redis_prefix: str, async_runner: asyncio.Runner
) -> MakeStore:
    """``make_store("redis-async", **options)``: a store on this test's clock and prefix, as
    the contract sees it: the store itself, or :class:`AsyncTwin` around it."""

    def make(variant: str = "redis-sync", **options: Any) -> Any:
        backend, api = variant.split("-")
        options.setdefault("clock", clock)
        store: Any
        if backend == "memory":
            store = MemoryStore(**options)
        else:
            options.setdefault("prefix", redis_prefix)
            sync, async_ = request.getfixturevalue(f"{backend}_clients")
            store = RedisStore(client=sync, async_client=async_, **options)
        return store if api == "sync" else AsyncTwin(store, async_runner)

    return make
