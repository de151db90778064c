"""What only MemoryStore must prove: a bounded size, evicting the least recently used, index intact."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from session_middleware import MemoryStore
from session_middleware.records import DataChanges
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
