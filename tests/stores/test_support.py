"""The Redis test helpers themselves: they must fail loudly, never skip, and clean up."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import redis_server as support
from tests.support.clock import FakeClock
from tests.support.redis_server import CommandRecorder, RedisServer


def test_a_missing_binary_fails_instead_of_skipping(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(RuntimeError, match="redis-server not found"):
        RedisServer().start()
    with pytest.raises(RuntimeError, match="redis-cli not found.*redis-tools"):
        support.redis_binary("redis-cli")


def test_a_server_restarts_on_its_port_and_stops_for_good() -> None:
    server = RedisServer().start()
    try:
        port = server.port
        assert server.command("SET", "k", "v") == b"+OK"
        server.kill()
        with pytest.raises(OSError):
            server.command("PING")
        server.restart()
        assert server.port == port and server.command("GET", "k") == b"$-1"  # nothing persisted
        process = server.process
    finally:
        server.close()
    assert process is not None and process.poll() is not None
    assert process not in support._running


def test_the_recorder_sees_client_commands_but_not_script_internals() -> None:
    with RedisServer() as server, CommandRecorder(server) as recorder:
        client = server.client()
        client.ping()  # the connection's handshake happens here, before the reset
        recorder.reset()
        client.set("a", "1")
        client.eval("redis.call('GET', KEYS[1]); return redis.call('INCR', KEYS[1])", 1, "a")
        assert recorder.names() == ["SET", "EVAL"]
        recorder.reset()
        assert recorder.names() == []
        client.close()


def test_the_fake_clock_only_moves_forward() -> None:
    clock = FakeClock(100.0)
    assert clock() == 100.0 and clock.tick(2.5) == 102.5 == clock()
    with pytest.raises(ValueError):
        clock.tick(-1)
