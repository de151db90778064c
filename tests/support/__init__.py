"""Test helpers shared by the whole suite: Redis servers and clusters, a fake clock, a command recorder.

Use the pytest fixtures by naming them in a ``conftest.py``::

    from tests.support import fixtures

    redis_server = fixtures.redis_server

or the plain classes (:class:`RedisServer`, :class:`RedisClusterNodes`) directly.
"""

from __future__ import annotations

from .clock import FakeClock as FakeClock
from .redis_server import CommandRecorder as CommandRecorder
from .redis_server import RedisClusterNodes as RedisClusterNodes
from .redis_server import RedisServer as RedisServer
from .redis_server import free_port as free_port
