"""Two app processes, one ASGI on uvicorn and one WSGI on werkzeug, share sessions through Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from session_middleware.stores.redis import RedisStore
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer, free_port

from .apps import API_TOKEN, SECRET
from .contract import make_record

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


# The suite's app, with the REST API mounted at /sessions (the middleware mounts none unless asked).
_SERVE = """
import sys
from tests.stores import apps
make_app = apps.make_app
apps.make_app = lambda kind, store, **options: make_app(kind, store, **{"api_path": "/sessions", **options})
apps.serve(sys.argv[1], int(sys.argv[2]))
"""


def _launch(kind: str, redis_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "REDIS_URL": redis_url, "SESSION_SECRET": SECRET, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _SERVE, kind, str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    return proc, f"http://127.0.0.1:{port}"


def _wait_ready(kind: str, proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{kind} app exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"{base}/public", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{kind} app did not start")


@pytest.fixture
def two_apps(redis_server: RedisServer) -> Iterator[tuple[str, str]]:
    started = [_launch("asgi", redis_server.url), _launch("wsgi", redis_server.url)]
    try:
        for kind, (proc, base) in zip(("asgi", "wsgi"), started, strict=True):
            _wait_ready(kind, proc, base)
        yield started[0][1], started[1][1]
    finally:
        for proc, _ in started:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr is not None:
                proc.stderr.close()


def test_a_session_is_shared_and_revoked_across_processes(two_apps: tuple[str, str]) -> None:
    asgi, wsgi = two_apps
    # Cookies are not port-bound, so one browser carries the same cookie to both apps.
    with httpx.Client(timeout=10) as browser, httpx.Client(timeout=10) as admin:
        first = browser.get(f"{asgi}/login?user=alice").json()
        second = browser.get(f"{wsgi}/write?key=cart&value=apple").json()
        assert first["user"] == second["user"] == "alice" and first["pid"] != second["pid"]
        assert browser.get(f"{asgi}/").json()["data"] == {"cart": "apple"}

        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        listed = admin.get(f"{wsgi}/sessions/alice", headers=auth).json()
        assert len(listed) == 1 and listed[0]["data"] == {"cart": "apple"}
        cookie = browser.cookies["session"]
        revoked = admin.delete(f"{wsgi}/sessions/alice", params={"session_id": listed[0]["id"]}, headers=auth)
        assert revoked.status_code == 204
        for base in (asgi, wsgi):  # each process on its own, with the revoked cookie
            with httpx.Client(cookies={"session": cookie}, timeout=10) as replay:
                assert replay.get(f"{base}/").json()["user"] is None
                assert replay.get(f"{base}/").json()["data"] == {}

        # A logout in one process closes the session for the other as well.
        browser.cookies.clear()
        assert browser.get(f"{wsgi}/login?user=bob").json()["user"] == "bob"
        assert browser.get(f"{asgi}/").json()["user"] == "bob"
        cookie = browser.cookies["session"]
        assert browser.get(f"{asgi}/logout").json()["user"] is None
        with httpx.Client(cookies={"session": cookie}, timeout=10) as replay:
            assert replay.get(f"{wsgi}/").json()["user"] is None
        assert admin.get(f"{asgi}/sessions/bob", headers=auth).json() == []


# Each worker process waits until all are ready, then saves its own key of one session
# 100 times as fast as it can, so the saves of the three processes interleave.
_WORKER = """
import sys, time
import redis
from session_middleware.records import DataChanges
from session_middleware.stores.redis import RedisStore
url, prefix, session_id, worker = sys.argv[1:]
barrier = redis.Redis.from_url(url)
barrier.incr(prefix + "ready")
barrier.expire(prefix + "ready", 60)
while int(barrier.get(prefix + "ready")) < 3:
    time.sleep(0.002)
store = RedisStore(url, prefix=prefix)
for n in range(100):
    assert store.save_changes(session_id, DataChanges({f"worker{worker}": str(n)}))
"""


def test_concurrent_saves_of_different_keys_from_processes(redis_server: RedisServer, redis_prefix: str) -> None:
    store = RedisStore(redis_server.url, prefix=redis_prefix)
    record = make_record(FakeClock(time.time()), data={"shared": 1})
    store.create(record)
    args = [redis_server.url, redis_prefix, record.id]
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, *args, str(i)], cwd=ROOT) for i in range(3)]
    assert [w.wait(timeout=60) for w in workers] == [0, 0, 0]
    loaded = store.load_and_touch(record.id)
    assert loaded is not None and loaded.data == {"shared": "1", "worker0": "99", "worker1": "99", "worker2": "99"}
    store.close()
