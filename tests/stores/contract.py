"""The store contract: one suite every store must pass, through its sync and its async methods.

``StoreContract`` is written against the sync method names. A test module subclasses it
and provides two fixtures: ``clock`` (a :class:`FakeClock`, the store's clock) and
``store``, either the store itself or :class:`AsyncTwin` around it, which runs each call
through the ``a``-prefixed twin on an event loop, so the very same tests check the async
methods too.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from session_middleware.records import DataChanges, SessionRecord, new_session_id
from tests.support.clock import FakeClock

IDLE = 100.0
ABSOLUTE = 1000.0
# Key-pattern metacharacters, hash tags, look-alikes: each must stay its own user.
HOSTILE_USER_IDS = ["*", "user:*", "[a-z]*", "{hash}", "a b", "../../x", "ａｄｍｉｎ", "admin", "Admin", "é", "e\u0301"]
HOSTILE_USER_IDS.append("x" * 256)


class AsyncTwin:
    """The sync Store API served by a store's async twins, on one event loop per test."""

    def __init__(self, store: Any, runner: asyncio.Runner) -> None:
        self.inner = store
        self.clock = store.clock
        self._runner = runner

    def _call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._runner.run(getattr(self.inner, "a" + name)(*args, **kwargs))

    def create(self, record: SessionRecord, **kwargs: Any) -> bool:
        return bool(self._call("create", record, **kwargs))

    def load_and_touch(self, session_id: str, **kwargs: Any) -> SessionRecord | None:
        result: SessionRecord | None = self._call("load_and_touch", session_id, **kwargs)
        return result

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        return bool(self._call("save_changes", session_id, changes))

    def delete(self, session_id: str) -> bool:
        return bool(self._call("delete", session_id))

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        result: list[SessionRecord] = self._call("list_by_user", user_id)
        return result

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        result: SessionRecord | None = self._call("find_by_client", user_id, address, client)
        return result

    def close_by_user(self, user_id: str, **kwargs: Any) -> int:
        return int(self._call("close_by_user", user_id, **kwargs))

    def ping(self) -> None:
        self._call("ping")

    def close(self) -> None:
        self._runner.run(self.inner.aclose())


def make_record(
    clock: FakeClock,
    *,
    user: str | Mapping[str, Any] | None = None,
    address: str = "192.0.2.1",
    client: str = "Browser/1.0",
    data: Mapping[str, Any] | None = None,
    idle: float = IDLE,
    absolute: float = ABSOLUTE,
) -> SessionRecord:
    now = clock()
    return SessionRecord(
        id=new_session_id(),
        opened=now,
        last_request=now,
        idle_timeout=idle,
        absolute_expiry=now + absolute,
        address=address,
        client=client,
        user={"id": user} if isinstance(user, str) else (None if user is None else dict(user)),
        data={k: json.dumps(v) for k, v in (data or {}).items()},
    )


def ids(records: list[SessionRecord]) -> list[str]:
    return [r.id for r in records]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
data_keys = st.text(max_size=12) | st.sampled_from(["v", "id", "uid", "user", "d:x", "last_request", "", "d:"])


class StoreContract:
    """Every rule of ``session_middleware.stores.base.Store``, for any store."""

    # -- create and load ------------------------------------------------------------------

    def test_created_session_loads_back_equal(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user={"id": "u1", "name": "Ada", "roles": ["admin"]}, data={"cart": [1, 2]})
        assert store.create(record) is True
        assert store.load_and_touch(record.id) == record

    def test_unknown_ids_load_nothing(self, store: Any, clock: FakeClock) -> None:
        store.create(make_record(clock))
        for session_id in (new_session_id(), "", "x", "*", "s:*", "\u0000", "a" * 2000):
            assert store.load_and_touch(session_id) is None
            assert store.delete(session_id) is False
            assert store.save_changes(session_id, DataChanges({"k": "1"})) is False

    def test_load_touches_and_slides_the_idle_expiry(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock)
        store.create(record)
        for _ in range(5):  # 5 x 80 s: far past one idle timeout, alive because touched
            clock.tick(80)
            loaded = store.load_and_touch(record.id)
            assert loaded is not None and loaded.last_request == clock()
        assert loaded.opened == record.opened
        clock.tick(IDLE)
        assert store.load_and_touch(record.id) is None

    def test_idle_expiry_is_exact(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock)
        store.create(record)
        clock.tick(IDLE - 0.001)
        assert store.load_and_touch(record.id) is not None
        clock.tick(IDLE)  # exactly at last_request + idle: gone
        assert store.load_and_touch(record.id) is None
        assert store.load_and_touch(record.id) is None

    def test_absolute_expiry_is_never_extended(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, idle=100, absolute=250)
        store.create(record)
        for _ in range(4):  # touched at 60, 120, 180, 240
            clock.tick(60)
            assert store.load_and_touch(record.id) is not None
        clock.tick(10)  # 250: the absolute expiry, whatever the activity
        assert store.load_and_touch(record.id) is None

    def test_a_record_created_already_expired_is_not_kept(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1", absolute=0.0)
        assert store.create(record) is True
        assert store.load_and_touch(record.id) is None
        assert store.list_by_user("u1") == []

    def test_timestamps_survive_exactly(self, store: Any, clock: FakeClock) -> None:
        clock.tick(0.123456789)
        record = make_record(clock, idle=1 / 3, absolute=1e-3 + 7 / 3)
        store.create(record)
        assert store.load_and_touch(record.id) == record

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(data=st.dictionaries(data_keys, json_values, max_size=6), name=st.text(max_size=20))
    def test_any_json_data_and_user_round_trip(self, store: Any, clock: FakeClock, data: Any, name: str) -> None:
        record = make_record(clock, user={"id": "u1", "name": name}, data=data)
        store.create(record)
        assert store.load_and_touch(record.id) == record
        assert [r.data for r in store.list_by_user("u1") if r.id == record.id] == [record.data]

    # -- touch_interval -------------------------------------------------------------------

    def test_a_load_within_the_touch_interval_writes_nothing(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1")
        store.create(record)
        for step in (10, 10, 9):  # at 10, 20, 29 s: all within 30 s of the stored last_request
            clock.tick(step)
            assert store.load_and_touch(record.id, touch_interval=30) == record
        assert [r.last_request for r in store.list_by_user("u1")] == [record.last_request]
        clock.set(record.opened + IDLE)  # the idle expiry did not slide
        assert store.load_and_touch(record.id, touch_interval=30) is None
        assert store.list_by_user("u1") == []

    def test_a_load_past_the_touch_interval_records_the_request(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1")
        store.create(record)
        clock.tick(30)  # exactly the interval: due
        loaded = store.load_and_touch(record.id, touch_interval=30)
        assert loaded is not None and loaded.last_request == clock() == record.opened + 30
        clock.tick(29)  # within the interval again, counted from the request just recorded
        again = store.load_and_touch(record.id, touch_interval=30)
        assert again is not None and again.last_request == record.opened + 30
        clock.set(record.opened + 30 + IDLE - 1)  # the idle expiry slid to 30 s + IDLE
        assert [r.last_request for r in store.list_by_user("u1")] == [record.opened + 30]
        clock.tick(1)
        assert store.list_by_user("u1") == []
        assert store.load_and_touch(record.id, touch_interval=30) is None

    def test_a_touch_interval_of_zero_records_every_load(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock)
        store.create(record)
        for step in (0.001, 1.0, 0.5):
            clock.tick(step)
            loaded = store.load_and_touch(record.id, touch_interval=0)
            assert loaded is not None and loaded.last_request == clock()

    def test_a_load_within_the_interval_sees_the_latest_data(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, data={"a": 1})
        store.create(record)
        clock.tick(1)
        assert store.load_and_touch(record.id, touch_interval=60) == record
        assert store.save_changes(record.id, DataChanges({"b": "2"}, frozenset({"a"})))
        clock.tick(1)
        loaded = store.load_and_touch(record.id, touch_interval=60)
        assert loaded is not None and loaded.data == {"b": "2"} and loaded.last_request == record.last_request

    def test_a_touch_interval_keeps_loads_scoped_to_their_user(self, store: Any, clock: FakeClock) -> None:
        alice = make_record(clock, user="alice")
        store.create(alice)
        clock.tick(50)
        assert store.load_and_touch(alice.id, user_id="bob", touch_interval=10) is None
        assert [r.last_request for r in store.list_by_user("alice")] == [alice.last_request]  # not touched
        assert store.load_and_touch(alice.id, user_id="bob", touch_interval=0) is None
        loaded = store.load_and_touch(alice.id, user_id="alice", touch_interval=10)
        assert loaded is not None and loaded.last_request == clock()
        clock.tick(5)
        assert store.load_and_touch(alice.id, user_id="bob", touch_interval=10) is None
        within = store.load_and_touch(alice.id, user_id="alice", touch_interval=10)
        assert within is not None and within.last_request == loaded.last_request

    def test_no_resurrection_through_a_load_within_the_interval(self, store: Any, clock: FakeClock) -> None:
        closed, expiring = make_record(clock, user="u1"), make_record(clock, user="u1", idle=10)
        for record in (closed, expiring):
            store.create(record)
            assert store.load_and_touch(record.id, touch_interval=60) is not None
        assert store.delete(closed.id) is True
        assert store.load_and_touch(closed.id, touch_interval=60) is None
        clock.tick(10)  # expiring is gone, well within 60 s of its last_request
        assert store.load_and_touch(expiring.id, touch_interval=60) is None
        for record in (closed, expiring):
            assert store.save_changes(record.id, DataChanges({"late": "1"})) is False
            assert store.load_and_touch(record.id, touch_interval=60) is None
        assert store.list_by_user("u1") == []

    # -- ping -------------------------------------------------------------------------------

    def test_ping_answers_and_changes_nothing(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1")
        store.create(record)
        assert store.ping() is None
        assert store.load_and_touch(record.id) == record
        assert ids(store.list_by_user("u1")) == [record.id]

    # -- copies -----------------------------------------------------------------------------

    def test_records_are_copies(self, store: Any, clock: FakeClock) -> None:
        data = {"k": '"v"'}
        user: dict[str, Any] = {"id": "u1", "name": "Ada", "roles": ["reader"]}
        record = SessionRecord(new_session_id(), clock(), clock(), IDLE, clock() + ABSOLUTE, "", "", user, data)
        store.create(record)
        data["k"], user["name"] = '"changed"', "Eve"  # the caller's containers after create
        user["roles"].append("admin")
        expected_user = {"id": "u1", "name": "Ada", "roles": ["reader"]}
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == {"k": '"v"'} and loaded.user == expected_user
        loaded.data["k"] = '"mutated"'
        loaded.user["name"] = "Mallory"
        loaded.user["roles"].append("admin")
        listed = store.list_by_user("u1")[0]
        listed.data["x"] = "1"
        assert listed.user is not None
        listed.user["roles"].append("root")
        again = store.load_and_touch(record.id)
        assert again is not None and again.data == {"k": '"v"'} and again.user == expected_user

    # -- saving changes -------------------------------------------------------------------

    def test_save_changes_updates_and_removes_per_key(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, data={"a": 1, "b": 2, "c": 3})
        store.create(record)
        assert store.save_changes(record.id, DataChanges({"b": "20", "d": "4"}, frozenset({"c", "missing"})))
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == {"a": "1", "b": "20", "d": "4"}

    def test_a_key_both_removed_and_updated_ends_up_updated(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, data={"a": 1, "b": 2})
        store.create(record)
        assert store.save_changes(record.id, DataChanges({"a": "5"}, frozenset({"a", "b"})))
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == {"a": "5"}

    def test_save_changes_with_clear_drops_every_other_key(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1", data={"a": 1, "b": 2})
        store.create(record)
        assert store.save_changes(record.id, DataChanges({"z": "26"}, clear=True))
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == {"z": "26"} and loaded.user == {"id": "u1"}
        assert store.save_changes(record.id, DataChanges(clear=True))
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == {}

    def test_save_changes_neither_touches_nor_extends(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock)
        store.create(record)
        clock.tick(IDLE - 1)
        assert store.save_changes(record.id, DataChanges({"k": "1"}))
        clock.tick(1)
        assert store.load_and_touch(record.id) is None

    def test_concurrent_changes_to_different_keys_are_all_kept(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, data={"shared": 0})
        store.create(record)
        first, second = store.load_and_touch(record.id), store.load_and_touch(record.id)
        assert first is not None and second is not None
        assert store.save_changes(record.id, DataChanges({"from_first": "1"}))
        assert store.save_changes(record.id, DataChanges({"from_second": "2"}, frozenset({"shared"})))
        loaded = store.load_and_touch(record.id)
        assert loaded is not None and loaded.data == {"from_first": "1", "from_second": "2"}

    def test_no_resurrection_after_delete_or_expiry(self, store: Any, clock: FakeClock) -> None:
        deleted, expired = make_record(clock, user="u1"), make_record(clock, user="u1", idle=10)
        store.create(deleted)
        store.create(expired)
        assert store.load_and_touch(deleted.id) is not None
        assert store.delete(deleted.id) is True
        clock.tick(10)
        for record in (deleted, expired):
            assert store.save_changes(record.id, DataChanges({"late": "1"})) is False
            assert store.save_changes(record.id, DataChanges(clear=True)) is False
            assert store.load_and_touch(record.id) is None
        assert store.list_by_user("u1") == []

    # -- delete -----------------------------------------------------------------------------

    def test_delete_is_idempotent(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1")
        store.create(record)
        assert store.delete(record.id) is True
        assert store.delete(record.id) is False
        assert store.load_and_touch(record.id) is None
        assert store.list_by_user("u1") == []

    def test_delete_of_an_expired_session_reports_it_gone(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock)
        store.create(record)
        clock.tick(IDLE)
        assert store.delete(record.id) is False

    # -- replaces (login, regenerate) ---------------------------------------------------------

    def test_replaces_moves_the_session_to_a_new_id(self, store: Any, clock: FakeClock) -> None:
        old = make_record(clock, data={"cart": [1]})
        store.create(old)
        clock.tick(5)
        new = make_record(clock, user="u1", data={"cart": [1]})
        assert store.create(new, replaces=old.id) is True
        assert store.load_and_touch(old.id) is None
        assert store.load_and_touch(new.id) is not None
        assert ids(store.list_by_user("u1")) == [new.id]

    def test_replacing_a_gone_session_creates_nothing(self, store: Any, clock: FakeClock) -> None:
        old = make_record(clock, user="u1", idle=10)
        store.create(old)
        clock.tick(10)
        new = make_record(clock, user="u1")
        assert store.create(new, replaces=old.id) is False
        assert store.load_and_touch(new.id) is None
        assert store.create(new, replaces=new_session_id()) is False
        assert store.list_by_user("u1") == []

    def test_only_one_of_two_regenerations_wins(self, store: Any, clock: FakeClock) -> None:
        old = make_record(clock, user="u1")
        store.create(old)
        first, second = make_record(clock, user="u1"), make_record(clock, user="u1")
        assert store.create(first, replaces=old.id) is True
        assert store.create(second, replaces=old.id) is False
        assert ids(store.list_by_user("u1")) == [first.id]

    def test_replaces_across_users_updates_both_indexes(self, store: Any, clock: FakeClock) -> None:
        old = make_record(clock, user="alice")
        store.create(old)
        new = make_record(clock, user="bob")
        assert store.create(new, replaces=old.id)
        assert store.list_by_user("alice") == []
        assert ids(store.list_by_user("bob")) == [new.id]

    # -- max_per_user -------------------------------------------------------------------------

    def test_max_per_user_closes_the_least_recently_used(self, store: Any, clock: FakeClock) -> None:
        first: list[str] = []
        second: list[str] = []
        third: list[str] = []
        for bucket in (first, second, third):
            record = make_record(clock, user="u1")
            store.create(record, max_per_user=3)
            bucket.append(record.id)
            clock.tick(1)
        store.load_and_touch(first[0])  # now the second is the least recently used
        clock.tick(1)
        fourth = make_record(clock, user="u1")
        assert store.create(fourth, max_per_user=3) is True
        assert store.load_and_touch(second[0]) is None
        assert ids(store.list_by_user("u1")) == [first[0], third[0], fourth.id]

    def test_max_per_user_one_keeps_only_the_newest(self, store: Any, clock: FakeClock) -> None:
        older = []
        for _ in range(3):
            record = make_record(clock, user="u1")
            store.create(record)
            older.append(record)
            clock.tick(1)
        other = make_record(clock, user="u2")
        store.create(other)
        newest = make_record(clock, user="u1")
        assert store.create(newest, max_per_user=1)
        assert ids(store.list_by_user("u1")) == [newest.id]
        assert all(store.load_and_touch(r.id) is None for r in older)
        assert store.load_and_touch(other.id) is not None

    def test_max_per_user_does_not_count_the_replaced_or_the_expired(self, store: Any, clock: FakeClock) -> None:
        dying = make_record(clock, user="u1", idle=10)
        store.create(dying)
        keep = make_record(clock, user="u1")
        store.create(keep)
        clock.tick(10)  # "dying" is gone, "keep" is live
        regenerated = make_record(clock, user="u1")
        assert store.create(regenerated, replaces=keep.id, max_per_user=1)
        assert ids(store.list_by_user("u1")) == [regenerated.id]
        clock.tick(1)
        another = make_record(clock, user="u1")
        assert store.create(another, max_per_user=2)
        assert ids(store.list_by_user("u1")) == [regenerated.id, another.id]

    def test_max_per_user_ignores_anonymous_records(self, store: Any, clock: FakeClock) -> None:
        anonymous = [make_record(clock) for _ in range(3)]
        for record in anonymous:
            assert store.create(record, max_per_user=1)
        assert all(store.load_and_touch(r.id) is not None for r in anonymous)

    # -- the user index -----------------------------------------------------------------------

    def test_list_by_user_orders_by_opened(self, store: Any, clock: FakeClock) -> None:
        created = []
        for _ in range(4):
            record = make_record(clock, user="u1")
            store.create(record)
            created.append(record.id)
            clock.tick(1)
        for session_id in reversed(created):  # touch newest first: recency must not matter
            store.load_and_touch(session_id)
            clock.tick(1)
        listed = store.list_by_user("u1")
        assert ids(listed) == created
        assert [r.last_request for r in listed] == sorted((r.last_request for r in listed), reverse=True)

    def test_user_index_is_exact_through_expiry(self, store: Any, clock: FakeClock) -> None:
        short = [make_record(clock, user="u1", idle=10) for _ in range(3)]
        long = [make_record(clock, user="u1") for _ in range(2)]
        for record in short + long:
            store.create(record)
        assert len(store.list_by_user("u1")) == 5
        clock.tick(10)
        assert sorted(ids(store.list_by_user("u1"))) == sorted(ids(long))
        assert store.find_by_client("u1", "192.0.2.1", "Browser/1.0") in long
        assert store.close_by_user("u1") == 2
        assert store.list_by_user("u1") == []

    def test_users_are_isolated_whatever_their_ids(self, store: Any, clock: FakeClock) -> None:
        mine = {}
        for user_id in HOSTILE_USER_IDS:
            record = make_record(clock, user=user_id)
            store.create(record)
            mine[user_id] = record.id
        for user_id in HOSTILE_USER_IDS:
            assert ids(store.list_by_user(user_id)) == [mine[user_id]]
        assert store.list_by_user("user:") == [] and store.list_by_user("") == []
        assert store.close_by_user("*") == 1
        assert store.list_by_user("user:*") != []

    def test_load_for_a_user_refuses_other_sessions_without_touching(self, store: Any, clock: FakeClock) -> None:
        alice, anonymous = make_record(clock, user="alice"), make_record(clock)
        store.create(alice)
        store.create(anonymous)
        clock.tick(50)
        assert store.load_and_touch(alice.id, user_id="bob") is None
        assert store.load_and_touch(anonymous.id, user_id="alice") is None
        loaded = store.load_and_touch(alice.id, user_id="alice")
        assert loaded is not None and loaded.last_request == clock()
        clock.tick(IDLE - 1)  # alice was touched at 50 s, the anonymous session never
        assert store.load_and_touch(anonymous.id) is None
        assert store.load_and_touch(alice.id) is not None

    def test_find_by_client_picks_the_most_recently_used_match(self, store: Any, clock: FakeClock) -> None:
        sessions = []
        for address, client in [("10.0.0.1", "A"), ("10.0.0.1", "A"), ("10.0.0.1", "B"), ("10.0.0.2", "A")]:
            record = make_record(clock, user="u1", address=address, client=client)
            store.create(record)
            sessions.append(record)
            clock.tick(1)
        store.load_and_touch(sessions[0].id)
        found = store.find_by_client("u1", "10.0.0.1", "A")
        assert found is not None and found.id == sessions[0].id
        clock.tick(1)
        store.load_and_touch(sessions[1].id)
        found = store.find_by_client("u1", "10.0.0.1", "A")
        assert found is not None and found.id == sessions[1].id
        assert store.find_by_client("u1", "10.0.0.9", "A") is None
        assert store.find_by_client("u2", "10.0.0.1", "A") is None

    def test_close_by_user_filters(self, store: Any, clock: FakeClock) -> None:
        spec = [("10.0.0.1", "A"), ("10.0.0.1", "B"), ("10.0.0.2", "A"), ("10.0.0.1", "A")]
        sessions = [make_record(clock, user="u1", address=a, client=c) for a, c in spec]
        bystander = make_record(clock, user="u2", address="10.0.0.1", client="A")
        for record in [*sessions, bystander]:
            store.create(record)
        assert store.close_by_user("u1", address="10.0.0.1", client="A", keep=sessions[0].id) == 1
        assert sorted(ids(store.list_by_user("u1"))) == sorted(ids(sessions[:3]))
        assert store.close_by_user("u1", client="A", keep=sessions[0].id) == 1  # the 10.0.0.2 one
        assert store.close_by_user("u1", address="10.0.0.1", keep=sessions[0].id) == 1  # the B one
        assert ids(store.list_by_user("u1")) == [sessions[0].id]
        assert store.close_by_user("u1") == 1
        assert store.close_by_user("u1") == 0
        assert store.load_and_touch(sessions[0].id) is None
        assert ids(store.list_by_user("u2")) == [bystander.id]

    def test_logout_and_relogin_keep_the_index_exact(self, store: Any, clock: FakeClock) -> None:
        record = make_record(clock, user="u1")
        store.create(record)
        store.delete(record.id)
        again = make_record(clock, user="u1")
        store.create(again)
        assert ids(store.list_by_user("u1")) == [again.id]
        assert store.save_changes(again.id, DataChanges({"k": "1"}))
        assert [r.data for r in store.list_by_user("u1")] == [{"k": "1"}]
