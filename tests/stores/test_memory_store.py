"""What only MemoryStore must prove: a bounded size, evicting the least recently used, index intact."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from session_middleware import MemoryStore
from session_middleware.records import DataChanges
from session_middleware.stores.memory import RECENCY_GRANULARITY, bumps_recency
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


def test_a_save_counts_as_a_use_only_in_a_new_second_too(clock: FakeClock) -> None:
    clock.set(float(int(clock()) + 1))
    store = MemoryStore(maxsize=2, clock=clock)
    first, second = make_record(clock), make_record(clock)
    store.create(first)
    clock.tick(0.25)
    store.create(second)
    clock.tick(0.25)
    assert store.save_changes(first.id, DataChanges({"k": '"v"'}))  # the second of its last request
    third = make_record(clock)
    store.create(third)
    assert store.load_and_touch(first.id) is None  # still the least recently used: evicted

    clock.set(float(int(clock()) + 1))
    assert store.save_changes(second.id, DataChanges({"k": '"v"'}))  # a new second: a use
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
