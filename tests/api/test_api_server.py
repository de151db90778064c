"""The standalone service: ``python -m sessions_api`` as a real process on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from session_middleware.stores.redis import RedisStore
from sessions_api.server import openapi_document
from tests.support import fixtures
from tests.support.redis_server import RedisServer

redis_server = fixtures.redis_server
TOKEN = "server-token-0123456789"
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if k != "SESSIONS_API_TOKEN"}
    environ.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "sessions_api", *args],
        cwd=ROOT,
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_until_serving(process: subprocess.Popen[str], port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited early: {process.communicate()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("server did not start listening")


@pytest.fixture
def server() -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = _free_port()
    process = _start("--host", "127.0.0.1", "--port", str(port), "--token", TOKEN, "--log-level", "info")
    try:
        _wait_until_serving(process, port)
        yield process, f"http://127.0.0.1:{port}"
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def test_protocol_over_real_http_and_clean_sigterm(server: tuple[subprocess.Popen[str], str]) -> None:
    process, base = server
    admin = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/health").json() == {"status": "ok"}
        assert http.get("/openapi.json").json() == openapi_document()
        assert http.get("/nothing").status_code == 404

        body = {"user": {"id": "alice", "name": "Alice"}, "address": "10.1.2.3", "client": "app", "data": {"n": 1}}
        opened = http.post("/sessions", json=body, headers=admin)
        assert opened.status_code == 201
        sid = opened.json()["id"]
        assert http.post("/sessions", json=body, headers=admin).json()["id"] == sid  # reused
        assert [s["id"] for s in http.get("/sessions/alice", headers=admin).json()] == [sid]
        update = http.post("/sessions/alice", params={"session_id": sid}, json={"data": {"n": 2}}, headers=admin)
        assert update.status_code == 204
        one = http.get("/sessions/alice", params={"session_id": sid, "correlation_id": "c-1"}, headers=admin)
        assert one.json()["data"] == {"n": 2} and one.headers["x-correlation-id"] == "c-1"
        assert http.get("/sessions/alice").status_code == 401

        def chunks() -> Iterator[bytes]:
            for _ in range(40):
                yield b" " * 65536  # 2.5 MiB, no Content-Length

        too_big = http.post("/sessions", content=chunks(), headers={**admin, "Content-Type": "application/json"})
        assert too_big.status_code == 413

        assert http.delete("/sessions/alice", params={"session_id": sid}, headers=admin).status_code == 204
        assert http.get("/sessions/alice", headers=admin).json() == []

    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "GET /sessions/alice 200" in err  # requests are logged...
    assert sid not in out + err  # ...without their query strings, which carry session ids


def test_refuses_to_start_without_a_token() -> None:
    process = _start("--port", str(_free_port()))
    out, err = process.communicate(timeout=20)
    assert process.returncode == 2
    assert "refusing to start without a token" in err


def test_token_from_the_environment_and_insecure_mode() -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    for args, env, expected in (
        ((), {"SESSIONS_API_TOKEN": TOKEN}, {"with": 200, "without": 401}),
        (("--insecure",), {}, {"with": 200, "without": 200}),  # open to everyone
        (("--insecure", "--token", TOKEN), {}, {"with": 200, "without": 401}),  # a token wins
    ):
        port = _free_port()
        process = _start("--port", str(port), *args, env=env)
        try:
            _wait_until_serving(process, port)
            url = f"http://127.0.0.1:{port}/sessions/u"
            got = {"with": httpx.get(url, headers=bearer).status_code, "without": httpx.get(url).status_code}
            assert got == expected, args
        finally:
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=15)
        assert process.returncode == 0
        assert ("WITHOUT authentication" in err) == (args == ("--insecure",))


def test_rejects_an_unknown_store() -> None:
    process = _start("--store", "postgres://x", "--token", TOKEN)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 2 and "--store" in err


def test_serves_a_redis_store(redis_server: RedisServer) -> None:
    port = _free_port()
    process = _start("--port", str(port), "--store", redis_server.url, "--token", TOKEN)
    admin = {"Authorization": f"Bearer {TOKEN}"}
    try:
        _wait_until_serving(process, port)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=admin, timeout=10) as http:
            body = {"user": {"id": "server-redis-user"}, "address": "10.0.0.1", "client": "c"}
            sid = http.post("/sessions", json=body).json()["id"]
            store = RedisStore(url=redis_server.url)  # the service's default prefix
            try:
                assert [r.id for r in store.list_by_user("server-redis-user")] == [sid]
            finally:
                store.close()
            assert http.delete("/sessions/server-redis-user", params={"session_id": sid}).status_code == 204
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=15)
    assert process.returncode == 0 and "Traceback" not in err
