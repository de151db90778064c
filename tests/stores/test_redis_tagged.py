"""Tagged sessions on Redis: one hash slot per user, and legacy (untagged) sessions beside them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from redis.crc import key_slot

from session_middleware.records import DataChanges, SessionRecord, new_session_id, user_tag
from session_middleware.stores._redis_schema import Keys, check_prefix, digest
from session_middleware.stores.redis import RedisStore
from tests.support.clock import FakeClock
from tests.support.redis_server import RedisServer

from . import contract
from .conftest import MakeStore
from .contract import StoreContract, ids

pytestmark = pytest.mark.redis

_untagged_record = contract.make_record


def tagged_record(clock: FakeClock, **options: Any) -> SessionRecord:
    """``make_record``, with the id the core gives a logged-in session."""
    record = _untagged_record(clock, **options)
    return replace(record, id=new_session_id(record.user_id)) if record.user_id is not None else record


legacy_record = _untagged_record


class TestTaggedContract(StoreContract):
    """The whole contract again, every logged-in session with a tagged id."""

    @pytest.fixture(params=["redis-sync", "cluster-async"])
    def store(
        self, request: pytest.FixtureRequest, make_store: MakeStore, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[Any]:
        monkeypatch.setattr(contract, "make_record", tagged_record)
        yield make_store(request.param)


@pytest.fixture
def raw(redis_server: RedisServer) -> Iterator[Any]:
    client = redis_server.client(decode_responses=False)
    yield client
    client.close()


@pytest.fixture
def store(make_store: MakeStore) -> RedisStore:
    made: RedisStore = make_store("redis-sync")
    return made


# -- layout ------------------------------------------------------------------------------


def test_a_tagged_session_and_its_users_index_share_a_slot(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    record = tagged_record(clock, user="alice@example.com", data={"k": 1})
    anonymous = tagged_record(clock)
    store.create(record)
    store.create(anonymous)
    tag, token, user_token = user_tag("alice@example.com"), digest(record.id), digest("alice@example.com")
    session_key, index_key = f"{store.prefix}s:{token}{{{tag}}}", f"{store.prefix}u:{user_token}{{{tag}}}"
    keys = sorted(k.decode() for k in raw.scan_iter(match=f"{store.prefix}*"))
    assert keys == sorted([session_key, index_key, f"{store.prefix}s:{digest(anonymous.id)}"])
    assert key_slot(session_key.encode()) == key_slot(index_key.encode()) == key_slot(tag.encode())
    assert raw.hget(session_key, "ix") == user_token.encode()  # the script's way from session to index
    assert raw.zrange(index_key, 0, -1, withscores=True) == [(token.encode(), record.absolute_expiry)]
    assert all(record.id not in k and "alice" not in k for k in keys)


def test_a_tagged_id_on_another_users_session_is_refused(store: RedisStore, clock: FakeClock) -> None:
    record = replace(legacy_record(clock, user="bob"), id=new_session_id("alice"))
    with pytest.raises(ValueError, match="new_session_id"):
        store.create(record)
    assert store.list_by_user("bob") == [] and store.load_and_touch(record.id) is None


@pytest.mark.parametrize("prefix", ["a{b:", "x{}:", "{:"])
def test_prefixes_that_would_hide_the_hash_tags_are_refused(prefix: str, redis_server: RedisServer) -> None:
    with pytest.raises(ValueError, match="hash tag"):
        RedisStore(redis_server.url, prefix=prefix)
    check_prefix("{sessions}:")  # a tag of its own: every key in one slot, users still whole
    check_prefix("app}:")


def test_a_prefix_with_its_own_tag_keeps_every_key_in_one_slot(
    make_store: MakeStore, redis_prefix: str, clock: FakeClock
) -> None:
    store = make_store("cluster-sync", prefix="{" + redis_prefix + "}")
    record = tagged_record(clock, user="u1")
    assert store.create(record, max_per_user=2)
    assert ids(store.list_by_user("u1")) == [record.id]
    assert store.close_by_user("u1") == 1


# -- legacy sessions ---------------------------------------------------------------------


def test_legacy_sessions_keep_their_keys_and_work_beside_tagged_ones(
    store: RedisStore, raw: Any, clock: FakeClock
) -> None:
    keys = Keys(store.prefix)
    old = legacy_record(clock, user="u1", address="10.0.0.1", client="A")
    store.create(old)  # what a release before tagged ids stored
    assert raw.exists(f"{store.prefix}s:{digest(old.id)}", keys.legacy_index("u1")) == 2
    clock.tick(1)
    new = tagged_record(clock, user="u1", address="10.0.0.1", client="A")
    store.create(new)
    assert ids(store.list_by_user("u1")) == [old.id, new.id]
    assert store.find_by_client("u1", "10.0.0.1", "A") == new
    clock.tick(1)
    assert store.load_and_touch(old.id) is not None
    assert store.save_changes(old.id, DataChanges({"k": "1"}))
    found = store.find_by_client("u1", "10.0.0.1", "A")
    assert found is not None and found.id == old.id and found.data == {"k": "1"}
    assert store.close_by_user("u1", keep=new.id) == 1
    assert ids(store.list_by_user("u1")) == [new.id]
    assert raw.zcard(keys.legacy_index("u1")) == 0


def test_the_cap_counts_legacy_sessions_least_recently_used_first(store: RedisStore, clock: FakeClock) -> None:
    legacy = [legacy_record(clock, user="u1") for _ in range(2)]
    for record in legacy:
        store.create(record)
    clock.tick(1)
    tagged = tagged_record(clock, user="u1")
    store.create(tagged)
    clock.tick(1)
    store.load_and_touch(legacy[0].id)  # now legacy[1] is the least recently used, then tagged
    clock.tick(1)
    assert store.create(tagged_record(clock, user="u1"), max_per_user=3)
    assert store.load_and_touch(legacy[1].id) is None
    assert len(store.list_by_user("u1")) == 3
    clock.tick(1)
    newest = tagged_record(clock, user="u1")
    assert store.create(newest, max_per_user=1)
    assert ids(store.list_by_user("u1")) == [newest.id]
    assert store.load_and_touch(legacy[0].id) is None and store.load_and_touch(tagged.id) is None


def test_the_cap_does_not_count_damaged_or_foreign_legacy_sessions(
    store: RedisStore, raw: Any, clock: FakeClock
) -> None:
    damaged, foreign, kept = (
        legacy_record(clock, user="u1"),
        legacy_record(clock, user="u2"),
        legacy_record(clock, user="u1"),
    )
    for record in (damaged, foreign, kept):
        store.create(record)
    keys = Keys(store.prefix)
    raw.hset(keys.session(damaged.id), "last_request", "soon")
    raw.zadd(keys.legacy_index("u1"), {digest(foreign.id): foreign.absolute_expiry})
    clock.tick(1)
    new = tagged_record(clock, user="u1")
    assert store.create(new, max_per_user=2)  # only "kept" counts: nothing is closed
    assert store.load_and_touch(kept.id) is not None and store.load_and_touch(foreign.id) is not None
    assert ids(store.list_by_user("u1")) == [kept.id, new.id]


def test_a_legacy_session_moves_to_a_tagged_id_on_regenerate(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    old = legacy_record(clock, user="u1", data={"cart": [1]})
    store.create(old)
    new = replace(tagged_record(clock, user="u1"), data=old.data)
    assert store.create(new, replaces=old.id, max_per_user=1)
    assert store.load_and_touch(old.id) is None
    assert ids(store.list_by_user("u1")) == [new.id]
    assert raw.zcard(Keys(store.prefix).legacy_index("u1")) == 0
    assert store.delete(new.id) is True
    assert raw.exists(Keys(store.prefix).index("u1")) == 0  # the index went with its last session


def test_logging_in_as_another_user_leaves_each_index_exact(store: RedisStore, clock: FakeClock) -> None:
    alice = tagged_record(clock, user="alice")
    store.create(alice)
    bob = tagged_record(clock, user="bob")
    assert store.create(bob, replaces=alice.id)
    assert store.list_by_user("alice") == [] and ids(store.list_by_user("bob")) == [bob.id]
    legacy_alice = legacy_record(clock, user="alice")
    store.create(legacy_alice)
    bob_again = tagged_record(clock, user="bob")
    assert store.create(bob_again, replaces=legacy_alice.id, max_per_user=5)
    assert store.list_by_user("alice") == [] and sorted(ids(store.list_by_user("bob"))) == sorted(
        [bob.id, bob_again.id]
    )


def test_damaged_tagged_records_and_indexes_are_pruned(store: RedisStore, raw: Any, clock: FakeClock) -> None:
    keys = Keys(store.prefix)
    wrong_type, bad_json, foreign, gone, mine = (tagged_record(clock, user="u1") for _ in range(5))
    for record in (wrong_type, bad_json, foreign, gone, mine):
        store.create(record)
    raw.delete(keys.session(wrong_type.id))
    raw.rpush(keys.session(wrong_type.id), b"x")
    raw.hset(keys.session(bad_json.id), "d:x", "{")
    raw.hset(keys.session(foreign.id), mapping={"uid": "u2", "user": '{"id":"u2"}'})
    raw.delete(keys.session(gone.id))
    assert ids(store.list_by_user("u1")) == [mine.id]
    assert raw.zrange(keys.index("u1"), 0, -1) == [digest(mine.id).encode()]
    assert raw.exists(keys.session(wrong_type.id), keys.session(bad_json.id)) == 0
    assert store.load_and_touch(foreign.id) is not None  # another user's session is never closed
    raw.set(keys.index("u1"), b"garbage")
    assert store.list_by_user("u1") == [] and store.close_by_user("u1") == 0
    assert store.create(tagged_record(clock, user="u1"), max_per_user=1)
    assert len(store.list_by_user("u1")) == 1


# -- without legacy sessions -----------------------------------------------------------------


def test_without_legacy_sessions_untagged_logins_are_refused_and_legacy_keys_unread(
    make_store: MakeStore, raw: Any, clock: FakeClock
) -> None:
    store = make_store("redis-sync", legacy_sessions=False)
    with pytest.raises(ValueError, match="new_session_id"):
        store.create(legacy_record(clock, user="u1"))
    anonymous = legacy_record(clock)
    assert store.create(anonymous)  # anonymous ids stay untagged
    record = tagged_record(clock, user="u1", address="10.0.0.1")
    assert store.create(record, replaces=anonymous.id, max_per_user=1)
    raw.zadd(Keys(store.prefix).legacy_index("u1"), {"0" * 64: 2e9})  # never looked at
    assert ids(store.list_by_user("u1")) == [record.id]
    assert store.find_by_client("u1", "10.0.0.1", record.client) == record
    assert store.close_by_user("u1") == 1 and store.list_by_user("u1") == []
    assert raw.zcard(Keys(store.prefix).legacy_index("u1")) == 1
