"""Pytest fixtures for Redis-backed tests; name the ones you need in a ``conftest.py``::

    from tests.support import fixtures

    redis_server = fixtures.redis_server  # a plain assignment: linters see it used
    redis_prefix = fixtures.redis_prefix

``redis_server`` and ``redis_cluster`` are shared by the whole test session, so give each
test its own key prefix (``redis_prefix``) instead of flushing. Tests that kill, pause or
restart Redis take ``private_redis_server``, which no other test sees.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from .clock import FakeClock
from .redis_server import RedisClusterNodes, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One redis-server for the session (fails, never skips, without the binary)."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterNodes]:
    """A three-master Redis Cluster for the session."""
    with RedisClusterNodes(tmp_path_factory.mktemp("redis-cluster")) as cluster:
        yield cluster


@pytest.fixture
def private_redis_server() -> Iterator[RedisServer]:
    """A redis-server of this test's own, free to be killed, paused and restarted."""
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def redis_url(redis_server: RedisServer) -> str:
    return redis_server.url


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix no other test uses."""
    return f"test-{secrets.token_hex(6)}:"


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()
