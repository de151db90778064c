"""How RedisStore sends its flows: the package's drivers, one op-to-call mapping, errors, ping, the extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
from redis.exceptions import ResponseError

from session_middleware import StoreError
from session_middleware._drive import drive
from session_middleware.records import new_session_id
from session_middleware.stores import _redis_flows as flows
from session_middleware.stores._redis_memo import TouchMemo
from session_middleware.stores._redis_schema import Batch, Command, Eval, Keys, Op, digest, record_fields
from session_middleware.stores._redis_scripts import INDEX_MEMBERS
from session_middleware.stores.redis import RedisStore, _call, _reload
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer

from .contract import make_record

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parents[2]


# -- the op-to-call mapping ------------------------------------------------------------------


def test_one_mapping_serves_both_clients(redis_server: RedisServer) -> None:
    sync, async_ = redis.Redis.from_url(redis_server.url), redis.asyncio.Redis.from_url(redis_server.url)
    script = INDEX_MEMBERS
    for client in (sync, async_):
        method, args = _call(client, Eval(script, ("k",), ("1",)))
        assert method == client.evalsha and args == (script.sha, 1, "k", "1")
        method, args = _reload(client, Eval(script, ("k",), ("1",)))
        assert method == client.eval and args == (script.lua, 1, "k", "1")
        method, args = _call(client, Command(("GET", "k")))
        assert method == client.execute_command and args == ("GET", "k")
        method, args = _call(client, Batch((Command(("GET", "a")), Command(("GET", "b")))))
        assert args == () and len(method.func.__self__.command_stack) == 2  # type: ignore[attr-defined]
        with pytest.raises(TypeError):
            _call(client, "GET k")  # type: ignore[arg-type]
        with pytest.raises(TypeError):
            _reload(client, Command(("GET", "k")))
    sync.close()


class BrokenClient:
    """A client with a bug of its own: it must surface as itself, not as an outage."""

    def evalsha(self, *args: Any) -> Any:
        raise KeyError("a bug")


class BrokenAsyncClient:
    async def evalsha(self, *args: Any) -> Any:
        raise KeyError("a bug")


def test_a_bug_is_never_reported_as_store_error(async_runner: Any) -> None:
    store = RedisStore(client=BrokenClient(), async_client=BrokenAsyncClient())  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        store.load_and_touch(new_session_id())
    with pytest.raises(KeyError):
        async_runner.run(store.aload_and_touch(new_session_id()))


def test_a_store_without_the_sync_client_says_so(redis_server: RedisServer, async_runner: Any) -> None:
    store = RedisStore(async_client=redis.asyncio.Redis.from_url(redis_server.url))
    with pytest.raises(RuntimeError, match="sync client"):
        store.delete(new_session_id())
    async_runner.run(store.aping())


# -- ping ----------------------------------------------------------------------------------


def test_ping_answers_or_raises_store_error(async_runner: Any) -> None:
    with RedisServer() as server:
        store = RedisStore(server.url, socket_timeout=0.5, connect_timeout=0.5, retries=0, max_connections=4)
        store.ping()
        async_runner.run(store.aping())
        server.kill()
        with pytest.raises(StoreError):
            store.ping()
        with pytest.raises(StoreError):
            async_runner.run(store.aping())
        store.close()
        async_runner.run(store.aclose())


def test_ping_reaches_every_cluster_node(make_store: Any) -> None:
    make_store("cluster-sync").ping()


# -- replies only a broken server sends ------------------------------------------------------


def run_with(flow: flows.Flow[Any], replies: list[Any]) -> Any:
    """Drive ``flow`` with canned replies; an exception instance is raised by that step."""
    pending = iter(replies)

    def perform(op: Op) -> Any:
        reply = next(pending)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    return drive(flow, perform, flows.BACKEND_ERRORS)


KEYS = Keys("p:")
DOWN = ResponseError("CLUSTERDOWN The cluster is down")


def test_error_replies_other_than_a_wrong_type_are_failures_not_damage() -> None:
    memo = TouchMemo()
    sid = new_session_id()
    memo.note(digest(sid), 0.0)
    with pytest.raises(ResponseError):  # within the interval: the HGETALL fails
        run_with(flows.load_and_touch(KEYS, memo, sid, 1.0, None, 30.0), [DOWN])
    with pytest.raises(ResponseError):  # a legacy index member whose read fails
        run_with(flows.list_by_user(KEYS, memo, "u1", 1.0), [[[]], [b"m1"], [DOWN]])
    record = make_record(FakeClock(), user="u1")
    with pytest.raises(ResponseError):  # ranking legacy sessions for the cap
        run_with(flows.create(KEYS, memo, record, record.opened, None, 1), [[b"m1"], [DOWN]])
    stored = dict(zip(*[iter(record_fields(record))] * 2, strict=True))
    with pytest.raises(ResponseError):  # closing legacy sessions
        replies = [[], [digest(record.id).encode()], [stored], [DOWN]]
        run_with(flows.close_by_user(KEYS, memo, "u1", None, None, None, record.opened), replies)


# -- the optional extra ----------------------------------------------------------------------

_WITHOUT_REDIS = """
import sys
sys.modules["redis"] = None  # as if the extra were not installed
import session_middleware
try:
    getattr(session_middleware, sys.argv[1])
except ImportError as exc:
    print(exc)
else:
    print("imported")
"""


@pytest.mark.parametrize("name", ["RedisStore", "stores.redis"])
def test_without_redis_py_the_import_error_names_the_extra(name: str) -> None:
    code = _WITHOUT_REDIS
    if name == "stores.redis":
        code = code.replace("getattr(session_middleware, sys.argv[1])", "import session_middleware.stores.redis")
    done = subprocess.run([sys.executable, "-c", code, name], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert 'pip install "session-middleware[redis]"' in done.stdout
