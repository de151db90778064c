"""What only MemoryStore must prove: a bounded size, evicting the least recently used, index intact."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from session_middleware import MemoryStore
from session_middleware.records import DataChanges, SessionRecord, new_session_id
from session_middleware.stores.memory import RECENCY_GRANULARITY, RECLAIM_BATCH, _Entry, bumps_recency
from tests.support.clock import FakeClock

from .contract import make_record


def test_a_full_store_evicts_the_least_recently_used_and_unlists_it(clock: FakeClock) -> None:
    store = MemoryStore(maxsize=3, clock=clock)
    records = []
    for i in range(3):
        record = make_record(clock, user="u1" if i else "u2")
        store.create(record)
        records.append(record)
        clock.tick(1)
    store.load_and_touch(records[0].id)  # records[1] is now the least recently used
    newcomer = make_record(clock, user="u1")
    store.create(newcomer)
    assert len(store) == 3
    assert store.load_and_touch(records[1].id) is None
    assert [r.id for r in store.list_by_user("u1")] == [records[2].id, newcomer.id]
    assert [r.id for r in store.list_by_user("u2")] == [records[0].id]
    assert store.close_by_user("u1") == 2 and len(store) == 1


def test_requests_within_one_second_count_as_one_use_for_eviction(clock: FakeClock) -> None:
    """A read moves its session in the eviction order only on its first request in a new
    second (RECENCY_GRANULARITY): the order within a second decides nothing for sessions."""
    assert RECENCY_GRANULARITY == 1.0
    clock.set(float(int(clock()) + 1))  # the start of a second
    store = MemoryStore(maxsize=2, clock=clock)
    first, second = make_record(clock), make_record(clock)
    store.create(first)
    clock.tick(0.25)
    store.create(second)
    clock.tick(0.25)
    assert store.load_and_touch(first.id) is not None  # same second as its last request
    newcomer = make_record(clock)
    store.create(newcomer)  # evicts the least recently used: still `first`
    assert store.load_and_touch(first.id) is None
    assert store.load_and_touch(second.id) is not None  # same second again: no use

    clock.set(float(int(clock()) + 1))
    assert store.load_and_touch(second.id) is not None  # its first request in a new second
    store.create(make_record(clock))  # so the newcomer is the least recently used now
    assert store.load_and_touch(newcomer.id) is None
    assert store.load_and_touch(second.id) is not None


def test_a_save_is_no_use_for_eviction(clock: FakeClock) -> None:
    """Only a create and a recorded request move a session in the eviction order: a save
    changes data, and a session whose requests count is touched within its interval anyway."""
    store = MemoryStore(maxsize=2, clock=clock)
    first, second = make_record(clock), make_record(clock)
    store.create(first)
    clock.tick(1)
    store.create(second)
    clock.tick(5)
    assert store.save_changes(first.id, DataChanges({"k": '"v"'}))
    third = make_record(clock)
    store.create(third)
    assert store.load_and_touch(first.id) is None  # still the least recently used: evicted
    assert store.load_and_touch(second.id) is not None  # a recorded request: a use
    store.create(make_record(clock))
    assert store.load_and_touch(third.id) is None
    assert store.load_and_touch(second.id) is not None


@pytest.mark.parametrize(
    ("previous", "now", "granularity", "bumps"),
    [(10.0, 10.9, 1.0, False), (10.9, 11.0, 1.0, True), (10.0, 10.0, 0.0, True), (12.0, 11.5, 1.0, True)],
)
def test_bumps_recency(previous: float, now: float, granularity: float, bumps: bool) -> None:
    assert bumps_recency(previous, now, granularity) is bumps


def test_expiry_frees_room_before_anything_live_is_evicted(clock: FakeClock) -> None:
    store = MemoryStore(maxsize=2, clock=clock)
    short, long = make_record(clock, user="u1", idle=10), make_record(clock, user="u1")
    store.create(short)
    store.create(long)
    clock.tick(10)
    store.create(make_record(clock, user="u1"))
    assert store.load_and_touch(long.id) is not None
    assert len(store.list_by_user("u1")) == 2


def test_maxsize_must_be_positive() -> None:
    with pytest.raises(ValueError):
        MemoryStore(maxsize=0)


def test_threads_share_one_consistent_store(clock: FakeClock) -> None:
    store = MemoryStore(maxsize=50, clock=clock)
    barrier = threading.Barrier(8)

    def worker(i: int) -> None:
        barrier.wait()
        for n in range(40):
            record = make_record(clock, user=f"user{i % 2}")
            store.create(record, max_per_user=5)
            assert store.save_changes(record.id, DataChanges({"n": str(n)})) in (True, False)
            store.load_and_touch(record.id)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(worker, range(8)))
    listed = store.list_by_user("user0") + store.list_by_user("user1")
    assert len(listed) == len(store) == 10  # the cap held for both users through every race
    assert all(store.load_and_touch(r.id) is not None for r in listed)


def test_a_load_within_the_touch_interval_is_no_use_for_eviction(clock: FakeClock) -> None:
    store = MemoryStore(maxsize=2, clock=clock)
    first = make_record(clock)
    store.create(first)
    clock.tick(1)
    second = make_record(clock)
    store.create(second)
    clock.tick(5)
    assert store.load_and_touch(first.id, touch_interval=10) is not None  # within: nothing recorded
    store.create(make_record(clock))
    assert store.load_and_touch(first.id) is None  # still the least recently used: evicted
    clock.tick(10)
    assert store.load_and_touch(second.id, touch_interval=10) is not None  # due: recorded, a use
    store.create(make_record(clock))
    assert store.load_and_touch(second.id) is not None


def held(store: MemoryStore) -> int:
    """Entries the store holds, expired ones not reclaimed yet included (no reclaiming)."""
    return len(store._sessions)


def test_a_mass_expiry_is_reclaimed_a_batch_per_call(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    doomed = [make_record(clock, user=f"user{i}", idle=10) for i in range(3 * RECLAIM_BATCH)]
    for record in doomed:
        store.create(record)
    survivor = make_record(clock, user="user0")
    store.create(survivor)
    clock.tick(11)
    assert store.load_and_touch(survivor.id) is not None
    assert held(store) == 2 * RECLAIM_BATCH + 1  # one call reclaimed one batch, no more
    assert store.load_and_touch(doomed[-1].id) is None  # expired, not reclaimed yet: missing all the same
    assert [r.id for r in store.list_by_user("user0")] == [survivor.id]
    assert store.list_by_user(f"user{3 * RECLAIM_BATCH - 2}") == []
    assert store.close_by_user(f"user{3 * RECLAIM_BATCH - 3}") == 0
    for _ in range(3):
        store.delete(new_session_id())
    assert held(store) == 1 and len(store) == 1


def test_a_touched_session_is_rescheduled_not_reclaimed(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    record = make_record(clock, idle=10)
    store.create(record)
    for _ in range(5):  # its first scheduled expiry passes while it is in use
        clock.tick(6)
        assert store.load_and_touch(record.id) is not None
    clock.tick(9.5)
    assert held(store) == 1 and store.load_and_touch(record.id) is not None


def _entries_alive() -> int:
    return sum(type(o) is _Entry for o in gc.get_objects())  # type(): a lazy proxy never resolves


@pytest.fixture
def no_gc() -> Iterator[None]:
    """Whatever leaves the store must be freed at once, not by the cycle collector."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_evicted_and_expired_sessions_release_their_memory(clock: FakeClock, no_gc: None) -> None:
    before = _entries_alive()
    store = MemoryStore(maxsize=50, clock=clock)
    for i in range(200):  # fill, then three times as many again: evictions
        store.create(make_record(clock, user=f"user{i % 70}", idle=5 if i % 3 else 100))
        clock.tick(0.25)
    assert len(store) <= 50 and _entries_alive() - before == held(store)
    clock.tick(100)
    for _ in range(3):
        store.delete(new_session_id())
    assert held(store) == 0 and _entries_alive() == before
    sessions = store._sessions
    assert sessions.by_user == {} and sessions.buckets == {} and sessions.root.newer is sessions.root


@pytest.mark.parametrize(
    "user",
    [
        {"id": "u1"},
        {"id": "u1", "name": "Ada"},
        {"name": "Ada", "id": "u1"},
        {"id": "u1", "name": None},
        {"id": "u1", "name": "Ada", "roles": ["admin"]},
    ],
)
@pytest.mark.parametrize(
    "data",
    [
        {},
        {"k": '"v"'},
        {"a": "1", "b": '"x\\u0000y"', "c": "[1,2]", "d": "null"},
        {"a": "1", "b": "raw\x00text"},  # opaque text with the separator the store joins with
        {"a": "1", "blob": '"' + "x" * 2000 + '"'},
        {f"key{i}": str(i) for i in range(40)},
        {"": "1", "\x00": "2"},
    ],
    ids=["empty", "one", "four", "separator", "long", "many", "odd-keys"],
)
def test_every_user_and_data_shape_round_trips(clock: FakeClock, user: dict[str, Any], data: dict[str, str]) -> None:
    store = MemoryStore(clock=clock)
    now = clock()
    record = SessionRecord(new_session_id(), now, now, 100.0, now + 1000, "198.51.100.7", "UA", user, data)
    store.create(record)
    loaded = store.load_and_touch(record.id)
    assert loaded == record and loaded.user is not None and list(loaded.user) == list(user)
    assert store.save_changes(record.id, DataChanges({"z": "26"}))
    again = store.load_and_touch(record.id)
    assert again is not None and again.data == {**data, "z": "26"}


def test_sessions_with_the_same_keys_share_one_key_tuple(clock: FakeClock) -> None:
    store = MemoryStore(clock=clock)
    records = [make_record(clock, data={"cart": [i], "theme": "dark", "page": f"/p/{i}"}) for i in range(3)]
    for record in records:
        store.create(record)
    key_tuples = set()
    for record in records:
        entry = store._sessions.peek(record.id)
        assert entry is not None and isinstance(entry.data, tuple) and isinstance(entry.data[0], tuple)
        key_tuples.add(id(entry.data[0]))
    assert len(key_tuples) == 1
    assert [store.load_and_touch(r.id) for r in records] == records
