"""RedisStore's touch_interval: what a read sends, and the memo that lets it skip the script."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from session_middleware.records import DataChanges, id_hash, new_session_id
from session_middleware.stores._redis_memo import TouchMemo
from session_middleware.stores._redis_schema import Keys, digest
from session_middleware.stores._redis_scripts import CREATE_INDEXED, DELETE, LOAD_AND_TOUCH, SAVE_CHANGES, SCRIPTS
from session_middleware.stores.redis import RedisStore
from tests.support.clock import FakeClock
from tests.support.redis_server import CommandRecorder, RedisServer

from .conftest import MakeStore
from .contract import make_record

pytestmark = pytest.mark.redis

INTERVAL = 30.0
API = ["redis-sync", "redis-async"]


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[Any]:
    client = redis_server.client(decode_responses=False)
    yield client
    client.close()


@pytest.fixture
def recorder(redis_server: RedisServer, raw: Any) -> Iterator[CommandRecorder]:
    for script in SCRIPTS:  # a script's first use on a server is an EVAL: not what is counted here
        raw.script_load(script.lua)
    with CommandRecorder(redis_server) as recording:
        yield recording


def inner(store: Any) -> RedisStore:
    """The RedisStore itself, also behind the contract's AsyncTwin."""
    found: RedisStore = getattr(store, "inner", store)
    return found


def sent(recorder: CommandRecorder) -> list[tuple[str, bytes]]:
    """(command, first argument) of what clients sent since the last reset."""
    return [(c[0].decode().upper(), c[1] if len(c) > 1 else b"") for c in recorder.commands()]


LOAD = ("EVALSHA", LOAD_AND_TOUCH.sha.encode())


@pytest.mark.parametrize("api", API)
def test_a_read_within_the_interval_is_one_hgetall_and_writes_nothing(
    api: str, make_store: MakeStore, clock: FakeClock, raw: Any, recorder: CommandRecorder
) -> None:
    store = make_store(api)
    record = replace(make_record(clock, user="u1"), id=new_session_id("u1"))
    store.create(record)
    key = Keys(inner(store).prefix).session(record.id)
    ttl = raw.pttl(key)
    clock.tick(INTERVAL - 1)
    recorder.reset()
    loaded = store.load_and_touch(record.id, touch_interval=INTERVAL)
    assert sent(recorder) == [("HGETALL", key.encode())]
    assert loaded == record  # as stored: last_request is the creation's
    assert raw.hget(key, "last_request") == repr(record.last_request).encode()
    assert ttl - 1000 <= raw.pttl(key) <= ttl  # the expiry did not move either


@pytest.mark.parametrize("api", API)
def test_a_due_touch_is_one_script_and_refreshes(
    api: str, make_store: MakeStore, clock: FakeClock, raw: Any, recorder: CommandRecorder
) -> None:
    store = make_store(api)
    record = make_record(clock)
    store.create(record)
    key = Keys(inner(store).prefix).session(record.id)
    for _ in range(3):
        clock.tick(INTERVAL)  # exactly the interval old: due
        recorder.reset()
        loaded = store.load_and_touch(record.id, touch_interval=INTERVAL)
        assert sent(recorder) == [LOAD]
        assert loaded is not None and loaded.last_request == clock()
        assert raw.hget(key, "last_request") == repr(clock()).encode()
        assert 99_000 < raw.pttl(key) <= 100_000  # a full idle timeout again
        clock.tick(1)
        recorder.reset()
        assert store.load_and_touch(record.id, touch_interval=INTERVAL) == loaded
        assert [name for name, _ in sent(recorder)] == ["HGETALL"]


def test_without_the_memo_the_script_decides_and_writes_only_when_due(
    make_store: MakeStore, clock: FakeClock, raw: Any, recorder: CommandRecorder
) -> None:
    """Another process (here: another store) knows nothing of this session's last request."""
    writer, reader = make_store("redis-sync"), make_store("redis-sync")
    record = make_record(clock)
    writer.create(record)
    key = Keys(writer.prefix).session(record.id)
    clock.tick(INTERVAL - 1)
    recorder.reset()
    assert reader.load_and_touch(record.id, touch_interval=INTERVAL) == record
    assert sent(recorder) == [LOAD]
    assert raw.hget(key, "last_request") == repr(record.last_request).encode()  # not due: not written
    recorder.reset()
    assert reader.load_and_touch(record.id, touch_interval=INTERVAL) == record  # the script taught the memo
    assert [name for name, _ in sent(recorder)] == ["HGETALL"]


def test_interval_zero_touches_on_every_read(
    make_store: MakeStore, clock: FakeClock, recorder: CommandRecorder
) -> None:
    store = make_store("redis-sync")
    record = make_record(clock)
    store.create(record)
    for _ in range(3):
        clock.tick(0.5)
        recorder.reset()
        loaded = store.load_and_touch(record.id)
        assert sent(recorder) == [LOAD] and loaded is not None and loaded.last_request == clock()


@pytest.mark.parametrize("api", API)
def test_a_closed_session_is_never_served_from_the_memo(api: str, make_store: MakeStore, clock: FakeClock) -> None:
    store, elsewhere = make_store(api), make_store(api)  # two processes' stores on one prefix
    deleted, closed, revoked = (replace(make_record(clock, user="u1"), id=new_session_id("u1")) for _ in range(3))
    for record in (deleted, closed, revoked):
        store.create(record)
        assert store.load_and_touch(record.id, touch_interval=INTERVAL) is not None
    memo = inner(store)._memo
    assert store.delete(deleted.id) is True
    assert digest(deleted.id) not in memo._seen
    assert store.close_by_user("u1", keep=revoked.id) == 1
    assert digest(closed.id) not in memo._seen
    assert elsewhere.delete(revoked.id) is True  # another process: this memo still has it
    assert digest(revoked.id) in memo._seen
    clock.tick(1)
    for record in (deleted, closed, revoked):
        assert store.load_and_touch(record.id, touch_interval=INTERVAL) is None
        assert store.save_changes(record.id, DataChanges({"late": "1"})) is False
    assert digest(revoked.id) not in memo._seen
    assert store.list_by_user("u1") == []


def test_reads_from_the_memo_still_check_expiry_user_and_integrity(
    make_store: MakeStore, clock: FakeClock, raw: Any, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store("redis-sync")
    short = make_record(clock, user="u1", absolute=5)  # ends within one interval
    damaged, mine = make_record(clock, user="u1"), make_record(clock, user="u1")
    for record in (short, damaged, mine):
        store.create(record)
    clock.tick(5)
    assert store.load_and_touch(short.id, touch_interval=INTERVAL) is None  # the store's clock decides
    assert store.load_and_touch(mine.id, user_id="u2", touch_interval=INTERVAL) is None
    assert store.load_and_touch(mine.id, user_id="u1", touch_interval=INTERVAL) == mine
    key = Keys(store.prefix).session(damaged.id)
    raw.hset(key, "d:cart", "[1,")
    with caplog.at_level(logging.WARNING, logger="session_middleware.security"):
        assert store.load_and_touch(damaged.id, touch_interval=INTERVAL) is None
    assert raw.exists(key) == 0 and id_hash(damaged.id) in caplog.text
    raw.delete(key)
    raw.rpush(key, b"not a hash")
    store._memo.note(digest(damaged.id), clock())
    assert store.load_and_touch(damaged.id, touch_interval=INTERVAL) is None
    assert raw.exists(key) == 0


def test_the_memo_is_bounded_and_evicts_the_oldest_entry() -> None:
    memo = TouchMemo(maxsize=2)
    memo.note("a", 10.0)
    memo.note("b", 10.0)
    memo.note("a", 5.0)  # an older value never lowers what is known; "a" is now the newest
    memo.note("c", 11.0)  # full: "b", noted longest ago, goes
    assert len(memo) == 2 and memo.fresh("a", 12.0, 5.0) and not memo.fresh("b", 12.0, 5.0)
    assert memo.fresh("c", 12.0, 5.0) and not memo.fresh("c", 16.0, 5.0)
    memo.forget("a")
    memo.forget("missing")
    assert len(memo) == 1
    with pytest.raises(ValueError):
        TouchMemo(maxsize=0)


def test_an_evicted_memo_entry_costs_one_script_not_a_touch(
    make_store: MakeStore, clock: FakeClock, raw: Any, recorder: CommandRecorder
) -> None:
    store = make_store("redis-sync", memo_size=1)
    first, second = make_record(clock), make_record(clock)
    store.create(first)
    store.create(second)  # evicts first's entry
    clock.tick(1)
    recorder.reset()
    assert store.load_and_touch(first.id, touch_interval=INTERVAL) == first
    assert store.load_and_touch(second.id, touch_interval=INTERVAL) == second
    assert sent(recorder) == [LOAD, LOAD]
    assert raw.hget(Keys(store.prefix).session(first.id), "last_request") == repr(first.last_request).encode()


@pytest.mark.parametrize("api", API)
def test_round_trips_of_a_request_a_write_and_a_login(
    api: str, make_store: MakeStore, clock: FakeClock, recorder: CommandRecorder
) -> None:
    """What docs/stores.md quotes: reads 1 (HGETALL or the script), a write 1, a login 2."""
    store = make_store(api)
    anonymous = make_record(clock, data={"cart": [1]})
    store.create(anonymous)
    clock.tick(1)
    recorder.reset()
    store.load_and_touch(anonymous.id, touch_interval=INTERVAL)
    store.save_changes(anonymous.id, DataChanges({"cart": "[1,2]"}))
    assert [name for name, _ in sent(recorder)] == ["HGETALL", "EVALSHA"]
    assert sent(recorder)[1] == ("EVALSHA", SAVE_CHANGES.sha.encode())
    login = replace(make_record(clock, user="ada"), id=new_session_id("ada"))
    recorder.reset()
    assert store.create(login, replaces=anonymous.id, max_per_user=None)
    assert sent(recorder) == [("EVALSHA", DELETE.sha.encode()), ("EVALSHA", CREATE_INDEXED.sha.encode())]
    regenerated = replace(make_record(clock, user="ada"), id=new_session_id("ada"))
    recorder.reset()
    assert store.create(regenerated, replaces=login.id, max_per_user=3)
    names = [name for name, _ in sent(recorder)]
    assert names == ["EVALSHA", "EVALSHA", "EVALSHA"]  # delete, the (empty) legacy index, create


def test_without_legacy_sessions_listing_closing_and_capped_logins_cost_one_command_less(
    make_store: MakeStore, clock: FakeClock, recorder: CommandRecorder
) -> None:
    store = make_store("redis-sync", legacy_sessions=False)
    old = replace(make_record(clock, user="ada"), id=new_session_id("ada"))
    store.create(old)
    new = replace(make_record(clock, user="ada"), id=new_session_id("ada"))
    recorder.reset()
    assert store.create(new, replaces=old.id, max_per_user=2)
    assert sent(recorder) == [("EVALSHA", DELETE.sha.encode()), ("EVALSHA", CREATE_INDEXED.sha.encode())]
    for call in (lambda: store.list_by_user("ada"), lambda: store.close_by_user("ada")):
        recorder.reset()
        call()
        assert [name for name, _ in sent(recorder)] == ["EVALSHA"]


@pytest.mark.parametrize("interval", [-1.0, float("nan"), float("inf")])
def test_an_interval_that_is_no_duration_is_refused(interval: float, make_store: MakeStore, clock: FakeClock) -> None:
    store = make_store("redis-sync")
    with pytest.raises(ValueError, match="touch_interval"):
        store.load_and_touch(new_session_id(), touch_interval=interval)
