"""What only RedisStore must prove: its layout, integrity, TTLs, atomic caps, partial failures."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
import redis
from redis.exceptions import ConnectionError

from session_middleware import StoreError
from session_middleware.records import DataChanges, id_hash, new_session_id
from session_middleware.stores._redis_schema import Keys
from session_middleware.stores._redis_scripts import INDEX_ADD, INDEX_REMOVE
from session_middleware.stores.redis import RedisStore
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer

from .conftest import MakeStore
from .contract import make_record

pytestmark = pytest.mark.redis


@pytest.fixture
def raw(redis_server: RedisServer) -> Any:
    """A plain client of the shared server, to look at and tamper with what the store wrote."""
    client = redis_server.client(decode_responses=False)
    yield client
    client.close()


@pytest.fixture
def store(make_store: MakeStore) -> RedisStore:
    result: RedisStore = make_store("redis-sync")
    return result


# -- layout ------------------------------------------------------------------------------


def test_keys_hide_session_and_user_ids(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    record = make_record(clock, user="alice@example.com", data={"k": 1})
    store.create(record)
    keys = sorted(k.decode() for k in raw.scan_iter(match=f"{store.prefix}*"))
    token = hashlib.sha256(record.id.encode()).hexdigest()
    user_token = hashlib.sha256(b"alice@example.com").hexdigest()
    assert keys == [f"{store.prefix}s:{token}", f"{store.prefix}u:{user_token}"]
    assert token.startswith(id_hash(record.id))  # a log line's tag finds the key
    assert all(record.id not in k and "alice" not in k for k in keys)
    assert raw.zrange(f"{store.prefix}u:{user_token}", 0, -1, withscores=True) == [
        (token.encode(), record.absolute_expiry)
    ]


def test_record_layout_is_a_hash_with_one_field_per_data_key(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    record = make_record(clock, user={"id": "u1", "name": "Ada"}, data={"cart": [1], "v": "x"})
    store.create(record)
    fields = raw.hgetall(Keys(store.prefix).session(record.id))
    assert fields == {
        b"v": b"1",
        b"id": record.id.encode(),
        b"opened": repr(record.opened).encode(),
        b"last_request": repr(record.last_request).encode(),
        b"idle_timeout": b"100.0",
        b"absolute_expiry": repr(record.absolute_expiry).encode(),
        b"address": b"192.0.2.1",
        b"client": b"Browser/1.0",
        b"user": b'{"id":"u1","name":"Ada"}',
        b"uid": b"u1",
        b"d:cart": b"[1]",
        b"d:v": b'"x"',
    }


def test_prefixes_isolate_stores(make_store: MakeStore, clock: FakeClock) -> None:
    first, second = make_store("redis-sync", prefix="app1:"), make_store("redis-sync", prefix="app2:")
    record = make_record(clock, user="u-prefix")
    first.create(record)
    assert second.load_and_touch(record.id) is None and second.list_by_user("u-prefix") == []
    assert first.load_and_touch(record.id) is not None
    first.delete(record.id)


def test_every_key_has_a_ttl_after_any_workload(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    records = [make_record(clock, user=f"user{i % 3}", data={"i": i}) for i in range(12)]
    for i, record in enumerate(records):
        store.create(record, max_per_user=3 if i % 2 else None)
        clock.tick(1)
    for record in records[::2]:
        store.load_and_touch(record.id)
        store.save_changes(record.id, DataChanges({"x": "1"}, frozenset({"i"})))
    regenerated = make_record(clock, user="user0")
    store.create(regenerated, replaces=records[-3].id)
    store.delete(records[-1].id)
    for user in ("user0", "user1", "user2"):
        store.list_by_user(user)
    store.close_by_user("user1", keep=records[1].id)
    keys = list(raw.scan_iter(match=f"{store.prefix}*"))
    assert len(keys) > 3
    for key in keys:
        ttl = raw.pttl(key) / 1000
        if key.startswith(f"{store.prefix}s:".encode()):
            assert 0 < ttl <= 100, key  # at most one idle timeout
        else:  # a user index lives as long as its longest-lived member, and none outlives 1000 s
            latest = max(score for _, score in raw.zrange(key, 0, -1, withscores=True))
            assert latest - clock() - 1 <= ttl <= 1000, key


def test_the_ttl_slides_with_requests_but_never_past_the_absolute_expiry(
    store: RedisStore, raw: Any, clock: FakeClock
) -> None:
    record = make_record(clock, idle=100, absolute=250)
    store.create(record)
    key = Keys(store.prefix).session(record.id)
    assert 99.5 < raw.pttl(key) / 1000 <= 100
    for remaining in (100, 100, 70, 10):  # touched at 60, 120, 180, 240 s; absolute at 250 s
        clock.tick(60)
        assert store.load_and_touch(record.id) is not None
        assert remaining - 0.5 < raw.pttl(key) / 1000 <= remaining


# -- integrity ---------------------------------------------------------------------------

GARBAGE: dict[str, Callable[[Any, str, dict[bytes, bytes]], object]] = {
    "a string": lambda r, k, f: (r.delete(k), r.set(k, b"\x80\x04\x95garbage")),
    "pickle bytes": lambda r, k, f: (r.delete(k), r.set(k, b"cos\nsystem\n(S'touch /tmp/pwned'\ntR.")),
    "a list": lambda r, k, f: (r.delete(k), r.rpush(k, b"x")),
    "a sorted set": lambda r, k, f: (r.delete(k), r.zadd(k, {b"x": 1})),
    "no version": lambda r, k, f: r.hdel(k, "v"),
    "an unknown version": lambda r, k, f: r.hset(k, "v", "2"),
    "unreadable times": lambda r, k, f: r.hset(k, "last_request", "soon"),
    "infinite times": lambda r, k, f: r.hset(k, "absolute_expiry", "inf"),
    "a missing field": lambda r, k, f: r.hdel(k, "address"),
    "bad user JSON": lambda r, k, f: r.hset(k, "user", "{"),
    "a user without uid": lambda r, k, f: r.hdel(k, "uid"),
    "a uid not the user's": lambda r, k, f: r.hset(k, "uid", "mallory"),
    "a data value not JSON": lambda r, k, f: r.hset(k, "d:cart", "[1,"),
    "another session's id": lambda r, k, f: r.hset(k, "id", new_session_id()),
    "invalid UTF-8": lambda r, k, f: r.hset(k, "address", b"\xff\xfe"),
}


@pytest.mark.parametrize("damage", list(GARBAGE))
@pytest.mark.parametrize("read", ["load", "list"])
def test_a_damaged_record_is_missing_deleted_and_logged(
    damage: str, read: str, store: RedisStore, raw: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    record = make_record(clock, user="u1", data={"cart": [1]})
    healthy = make_record(clock, user="u1")
    store.create(record)
    store.create(healthy)
    key = Keys(store.prefix).session(record.id)
    GARBAGE[damage](raw, key, raw.hgetall(key))
    with caplog.at_level(logging.WARNING, logger="session_middleware.security"):
        if read == "load":
            assert store.load_and_touch(record.id) is None
        else:
            assert [r.id for r in store.list_by_user("u1")] == [healthy.id]
    assert raw.exists(key) == 0
    warnings = [r for r in caplog.records if r.name == "session_middleware.security"]
    assert len(warnings) == 1 and id_hash(record.id) in warnings[0].getMessage()
    assert record.id not in caplog.text
    assert store.load_and_touch(healthy.id) is not None
    if read == "list":
        index = Keys(store.prefix).legacy_index("u1")
        assert raw.zcard(index) == 1


def test_a_damaged_user_index_is_replaced(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    index = Keys(store.prefix).legacy_index("u1")
    raw.set(index, b"garbage")
    assert store.list_by_user("u1") == []
    record = make_record(clock, user="u1")
    assert store.create(record, max_per_user=2)
    assert [r.id for r in store.list_by_user("u1")] == [record.id]
    raw.set(index, b"garbage")
    assert store.close_by_user("u1") == 0  # unlisted now, but the session itself still works
    assert store.load_and_touch(record.id) is not None


def test_dangling_and_foreign_index_entries_are_pruned_never_listed(
    store: RedisStore, raw: Any, clock: FakeClock
) -> None:
    keys = Keys(store.prefix)
    gone, foreign, mine = make_record(clock, user="u1"), make_record(clock, user="u2"), make_record(clock, user="u1")
    for record in (gone, foreign, mine):
        store.create(record)
    raw.delete(keys.session(gone.id))  # as if a delete had failed half way
    foreign_token = hashlib.sha256(foreign.id.encode()).hexdigest()
    raw.zadd(keys.legacy_index("u1"), {foreign_token: foreign.absolute_expiry})
    assert [r.id for r in store.list_by_user("u1")] == [mine.id]
    assert raw.zrange(keys.legacy_index("u1"), 0, -1) == [hashlib.sha256(mine.id.encode()).hexdigest().encode()]
    assert store.close_by_user("u1") == 1
    assert store.load_and_touch(foreign.id) is not None  # another user's session is never touched


def test_lone_surrogates_round_trip_like_in_memory(store: RedisStore, clock: FakeClock) -> None:
    record = replace(make_record(clock, user={"id": "u1", "name": "\ud800"}), data={"\udfff": '"\ud83d"'})
    store.create(record)
    assert store.load_and_touch(record.id) == record


def test_out_of_memory_keeps_sessions_readable_and_intact(clock: FakeClock) -> None:
    """Under maxmemory-policy noeviction, reads go on (unrefreshed) and no write half-happens."""
    with RedisServer(extra_args=["--maxmemory-policy", "noeviction"]) as server:
        store = RedisStore(server.url, clock=clock)
        record = make_record(clock, user="u1", data={"a": 1, "b": 2})
        store.create(record)
        filler = server.client()
        used = int(filler.info("memory")["used_memory"])
        filler.config_set("maxmemory", used // 2)  # far over the limit: every write is refused
        with pytest.raises(redis.exceptions.OutOfMemoryError):
            filler.set("filler", "x")
        clock.tick(10)
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == record.data and loaded.last_request == record.opened
        with pytest.raises(StoreError):
            store.save_changes(record.id, DataChanges({"c": "3"}, frozenset({"a"}), clear=True))
        with pytest.raises(StoreError):
            store.create(make_record(clock, user="u1"))
        assert [r.data for r in store.list_by_user("u1")] == [record.data]
        assert store.delete(record.id) is True  # and a logout always works
        filler.close()
        store.close()


# -- concurrency -------------------------------------------------------------------------


@pytest.mark.parametrize("ids", ["tagged", "legacy"])
def test_concurrent_logins_never_pass_the_cap(ids: str, make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store("redis-sync")
    for round_ in range(5):
        user = f"racer{round_}"
        barrier = threading.Barrier(8)

        def login(i: int, user: str = user, barrier: threading.Barrier = barrier) -> bool:
            record = make_record(clock, user=user, data={"i": i})
            if ids == "tagged":
                record = replace(record, id=new_session_id(user))
            barrier.wait()
            return bool(store.create(record, max_per_user=2))

        with ThreadPoolExecutor(8) as pool:
            assert all(pool.map(login, range(8)))
        listed = len(store.list_by_user(user))
        # Tagged sessions are capped by one script; legacy ones are closed before they are
        # unindexed, so a login racing another may count a closing one and close one more.
        assert listed == 2 if ids == "tagged" else 1 <= listed <= 2


def test_concurrent_saves_of_different_keys_from_threads(make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store("redis-sync")
    record = make_record(clock)
    store.create(record)

    def writer(i: int) -> None:
        for n in range(20):
            assert store.save_changes(record.id, DataChanges({f"key{i}": json.dumps(n)}))

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(writer, range(6)))
    loaded = store.load_and_touch(record.id)
    assert loaded is not None and loaded.data == {f"key{i}": "19" for i in range(6)}


# -- partial failures --------------------------------------------------------------------


class FlakyClient:
    """A redis client whose chosen scripts, or pipelines, fail as if the node were down."""

    def __init__(self, client: Any, *, scripts: tuple[str, ...] = (), pipelines: bool = False) -> None:
        self.client = client
        self.failing = {s for s in scripts}
        self.pipelines = pipelines

    def evalsha(self, sha: str, *args: Any) -> Any:
        if sha in self.failing:
            raise ConnectionError("injected")
        return self.client.evalsha(sha, *args)

    def eval(self, script: str, *args: Any) -> Any:
        return self.client.eval(script, *args)

    def execute_command(self, *args: Any) -> Any:
        return self.client.execute_command(*args)

    def pipeline(self, **kwargs: Any) -> Any:
        pipe = self.client.pipeline(**kwargs)
        if self.pipelines:
            pipe.execute = lambda **_: (_ for _ in ()).throw(ConnectionError("injected"))
        return pipe


def test_a_session_that_cannot_be_indexed_is_removed(redis_server: RedisServer, raw: Any, clock: FakeClock) -> None:
    flaky = FlakyClient(redis.Redis.from_url(redis_server.url), scripts=(INDEX_ADD.sha,))
    store = RedisStore(client=flaky, prefix=f"flaky-{new_session_id()[:8]}:", clock=clock)  # type: ignore[arg-type]
    record = make_record(clock, user="u1")
    with pytest.raises(StoreError) as raised:
        store.create(record)
    assert isinstance(raised.value.__cause__, ConnectionError)
    assert raw.exists(Keys(store.prefix).session(record.id)) == 0  # never alive and unlisted


def test_evicted_sessions_that_cannot_be_deleted_stay_listed(
    redis_server: RedisServer, raw: Any, clock: FakeClock
) -> None:
    flaky = FlakyClient(redis.Redis.from_url(redis_server.url))
    store = RedisStore(client=flaky, prefix=f"flaky-{new_session_id()[:8]}:", clock=clock)  # type: ignore[arg-type]
    old = make_record(clock, user="u1")
    store.create(old)
    clock.tick(1)
    flaky.pipelines = True  # the victim's node goes down after the cap check
    with pytest.raises(StoreError):
        store.create(make_record(clock, user="u1"), max_per_user=1)
    flaky.pipelines = False
    listed = store.list_by_user("u1")
    assert old.id in [r.id for r in listed]  # still closable by "sign out everywhere"
    assert store.close_by_user("u1") == len(listed)
    assert store.load_and_touch(old.id) is None


def test_a_failed_index_clean_up_after_delete_is_harmless(
    redis_server: RedisServer, raw: Any, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    flaky = FlakyClient(redis.Redis.from_url(redis_server.url), scripts=(INDEX_REMOVE.sha,))
    store = RedisStore(client=flaky, prefix=f"flaky-{new_session_id()[:8]}:", clock=clock)  # type: ignore[arg-type]
    record = make_record(clock, user="u1")
    store.create(record)
    assert store.delete(record.id) is True
    assert "left for later pruning" in caplog.text
    flaky.failing.clear()
    assert store.list_by_user("u1") == []
    assert raw.exists(Keys(store.prefix).legacy_index("u1")) == 0


# -- configuration -----------------------------------------------------------------------


def test_defaults_bound_every_wait(redis_server: RedisServer) -> None:
    store = RedisStore(redis_server.url)
    for client in (store._client, store._async_client):
        kwargs = client.connection_pool.connection_kwargs  # type: ignore[union-attr]
        assert kwargs["socket_connect_timeout"] == 1.0
        assert kwargs["health_check_interval"] == 0
        assert kwargs["retry"].get_retries() == 1
    # The sync client's socket bounds each wait; the async calls are bounded as a whole.
    assert store._client.connection_pool.connection_kwargs["socket_timeout"] == 1.0  # type: ignore[union-attr]
    assert store._async_client.connection_pool.connection_kwargs["socket_timeout"] is None  # type: ignore[union-attr]
    store.close()


def test_constructor_refuses_ambiguous_or_unsafe_settings(redis_server: RedisServer) -> None:
    with pytest.raises(TypeError):
        RedisStore()
    with pytest.raises(TypeError):
        RedisStore(redis_server.url, client=redis.Redis())
    with pytest.raises(ValueError):
        RedisStore(redis_server.url, prefix="")
    with pytest.raises(ValueError):
        RedisStore(redis_server.url, socket_timeout=0)
    assert "redis://" not in repr(RedisStore("redis://:secret@127.0.0.1:1/0"))


def test_a_hung_server_fails_async_calls_within_the_timeout_and_leaves_no_late_reply(
    private_redis_server: RedisServer,
) -> None:
    server = private_redis_server
    store = RedisStore(server.url, socket_timeout=0.3, connect_timeout=0.3)

    async def scenario() -> None:
        record = make_record(time.time)  # type: ignore[arg-type]
        assert await store.acreate(record)
        server.pause()
        try:
            for _ in range(2):  # a connection in use when it hung, then a new one
                started = time.monotonic()
                with pytest.raises(StoreError, match="TimeoutError"):
                    await store.aload_and_touch(record.id)
                assert time.monotonic() - started < 1.0
        finally:
            server.resume()
        # Replies the hung server sends late must reach no later command.
        other = make_record(time.time)  # type: ignore[arg-type]
        assert await store.acreate(other)
        for _ in range(5):
            loaded = await store.aload_and_touch(record.id)
            assert loaded is not None and loaded.id == record.id
            assert (await store.aload_and_touch(other.id)).id == other.id  # type: ignore[union-attr]
        await store.aclose()

    asyncio.run(scenario())


def test_a_store_without_the_matching_client_says_so(redis_server: RedisServer, async_runner: Any) -> None:
    store = RedisStore(client=redis.Redis.from_url(redis_server.url))
    with pytest.raises(RuntimeError, match="async_client"):
        async_runner.run(store.aload_and_touch(new_session_id()))


# -- memory --------------------------------------------------------------------------------

USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


@pytest.mark.parametrize(("settings", "bound"), [((), 1400), (("--hash-max-listpack-value", "256"), 850)])
def test_memory_per_typical_session_stays_as_documented(
    settings: tuple[str, ...], bound: int, clock: FakeClock
) -> None:
    """docs/stores.md quotes these numbers: a signed-in session with ~100 bytes of data."""
    with RedisServer(extra_args=settings) as server:
        store = RedisStore(server.url, clock=clock)
        data = {"cart": [101, 202, 303], "theme": "dark", "csrf": new_session_id(), "visits": 12}
        user = {"id": "user-000042", "name": "Ada Lovelace"}
        record = make_record(clock, user=user, address="203.0.113.7", client=USER_AGENT, data=data)
        record = replace(record, id=new_session_id("user-000042"))  # as the middleware makes it
        assert 80 <= sum(len(k) + len(v) for k, v in record.data.items()) <= 120
        store.create(record)
        raw = server.client()
        keys = Keys(store.prefix)
        session_bytes = raw.memory_usage(keys.session(record.id), samples=0)
        index_bytes = raw.memory_usage(keys.index("user-000042"), samples=0)
        print(f"[{' '.join(settings) or 'default'}] session {session_bytes} B, index {index_bytes} B")  # with -s
        assert session_bytes <= bound and index_bytes <= 300
        raw.close()
        store.close()
