"""Every RedisStore operation, failed at each of its commands in turn, keeps the flows' promises.

For each scenario the operation runs once to count its commands (n), then once per
k = 1..n and per way of failing (the command is not sent; it ran and its reply is lost),
each time from the same state on a fresh prefix. After every run, whatever it returned:

- every live session is listed by its user's listing, and close_by_user closes them all;
- a session closed before the call, or by a call that said so, stays closed;
- what the call acknowledged (True, a count) is stored;
- a call that failed raised StoreError, caused by the injected error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from session_middleware import StoreError
from session_middleware.records import DataChanges, SessionRecord, new_session_id
from session_middleware.stores._redis_schema import Keys, decode, decode_record
from session_middleware.stores._redis_scripts import SCRIPTS
from session_middleware.stores.redis import RedisStore
from tests.support.clock import FakeClock
from tests.support.redis_faults import (
    MODES,
    Fault,
    FaultyAsyncClient,
    FaultySyncClient,
    InjectedConnectionError,
    InjectedTimeout,
)

from .contract import AsyncTwin, make_record

pytestmark = pytest.mark.redis

USERS = ("u1", "u2")
INTERVAL = 30.0


@dataclass
class Expect:
    """What a call's result promises about the store afterwards."""

    alive: set[str] = field(default_factory=set)
    closed: set[str] = field(default_factory=set)
    data: dict[str, dict[str, str]] = field(default_factory=dict)


@dataclass
class World:
    """A scenario's store (faults disarmed while it is set up), clock and raw client."""

    store: Any
    clock: FakeClock
    raw: Any
    prefix: str
    closed: set[str] = field(default_factory=set)

    def tagged(self, user: str, **options: Any) -> SessionRecord:
        record = make_record(self.clock, user=user, **options)
        return self.add(replace(record, id=new_session_id(user)))

    def legacy(self, user: str, **options: Any) -> SessionRecord:
        return self.add(make_record(self.clock, user=user, **options))

    def anonymous(self, **options: Any) -> SessionRecord:
        return self.add(make_record(self.clock, **options))

    def add(self, record: SessionRecord) -> SessionRecord:
        assert self.store.create(record)
        self.clock.tick(1)
        return record

    def fresh(self, user: str | None, tagged: bool = True) -> SessionRecord:
        """A record not stored yet."""
        record = make_record(self.clock, user=user)
        return replace(record, id=new_session_id(user)) if user is not None and tagged else record

    def key(self, record: SessionRecord) -> str:
        return Keys(self.prefix).session(record.id)


Action = Callable[[Any], Any]
Promise = Callable[[Any], Expect]
Scenario = Callable[[World], tuple[Action, Promise]]


def created(record: SessionRecord, *, replaced: SessionRecord | None = None) -> Promise:
    def promise(result: Any) -> Expect:
        if result is not True:
            return Expect()
        return Expect(alive={record.id}, closed=set() if replaced is None else {replaced.id})

    return promise


def create_anonymous(w: World) -> tuple[Action, Promise]:
    new = w.fresh(None)
    return (lambda s: s.create(new)), created(new)


def create_tagged(w: World) -> tuple[Action, Promise]:
    w.tagged("u1")
    new = w.fresh("u1")
    return (lambda s: s.create(new, max_per_user=3)), created(new)


def create_tagged_at_the_cap(w: World) -> tuple[Action, Promise]:
    w.tagged("u1")
    w.tagged("u1")
    new = w.fresh("u1")
    return (lambda s: s.create(new, max_per_user=2)), created(new)


def login_from_anonymous(w: World) -> tuple[Action, Promise]:
    old, new = w.anonymous(data={"cart": [1]}), w.fresh("u1")
    return (lambda s: s.create(new, replaces=old.id)), created(new, replaced=old)


def regenerate_at_the_cap(w: World) -> tuple[Action, Promise]:
    w.legacy("u1")
    w.tagged("u1")
    old = w.tagged("u1")
    new = w.fresh("u1")
    return (lambda s: s.create(new, replaces=old.id, max_per_user=1)), created(new, replaced=old)


def legacy_login_at_the_cap(w: World) -> tuple[Action, Promise]:
    w.legacy("u1")
    w.legacy("u1")
    new = w.fresh("u1", tagged=False)
    return (lambda s: s.create(new, max_per_user=1)), created(new)


def legacy_regenerate(w: World) -> tuple[Action, Promise]:
    old, new = w.legacy("u1"), w.fresh("u1", tagged=False)
    return (lambda s: s.create(new, replaces=old.id, max_per_user=2)), created(new, replaced=old)


def login_over_another_users_legacy_session(w: World) -> tuple[Action, Promise]:
    old, new = w.legacy("u2"), w.fresh("u1")
    return (lambda s: s.create(new, replaces=old.id)), created(new, replaced=old)


def load_due(w: World) -> tuple[Action, Promise]:
    record = w.tagged("u1")
    w.clock.tick(INTERVAL)
    return (lambda s: s.load_and_touch(record.id, touch_interval=INTERVAL)), lambda result: Expect()


def load_from_memo(w: World) -> tuple[Action, Promise]:
    record = w.tagged("u1")
    return (lambda s: s.load_and_touch(record.id, touch_interval=INTERVAL)), lambda result: Expect()


def load_damaged(w: World) -> tuple[Action, Promise]:
    record = w.tagged("u1")
    w.raw.hset(w.key(record), "d:x", "{")
    return (lambda s: s.load_and_touch(record.id)), lambda result: Expect(closed={record.id})


def load_damaged_from_memo(w: World) -> tuple[Action, Promise]:
    record = w.legacy("u1")
    w.raw.hset(w.key(record), "d:x", "{")
    return (lambda s: s.load_and_touch(record.id, touch_interval=INTERVAL)), lambda result: Expect(closed={record.id})


def save(w: World) -> tuple[Action, Promise]:
    record = w.tagged("u1", data={"a": 1})

    def promise(result: Any) -> Expect:
        return Expect(data={record.id: {"a": "1", "b": "2"}}) if result is True else Expect()

    return (lambda s: s.save_changes(record.id, DataChanges({"b": "2"}))), promise


def save_after_close(w: World) -> tuple[Action, Promise]:
    record = w.tagged("u1")
    assert w.store.delete(record.id)
    w.closed.add(record.id)
    return (lambda s: s.save_changes(record.id, DataChanges({"b": "2"}, clear=True))), lambda result: Expect()


def deleted(record: SessionRecord) -> Promise:
    return lambda result: Expect(closed={record.id}) if result is True else Expect()


def delete_tagged(w: World) -> tuple[Action, Promise]:
    record = w.tagged("u1")
    return (lambda s: s.delete(record.id)), deleted(record)


def delete_legacy(w: World) -> tuple[Action, Promise]:
    record = w.legacy("u1")
    return (lambda s: s.delete(record.id)), deleted(record)


def _damaged_indexes(w: World) -> None:
    """A user whose indexes hold dangling entries and damaged records of both kinds."""
    w.tagged("u1", address="10.0.0.1", client="A")
    w.legacy("u1", address="10.0.0.1", client="A")
    for record in (w.tagged("u1"), w.legacy("u1")):
        w.raw.delete(w.key(record))  # as if a delete had stopped half way
    for record in (w.tagged("u1"), w.legacy("u1")):
        w.raw.hset(w.key(record), "d:x", "{")
    foreign = w.legacy("u2")
    w.raw.zadd(Keys(w.prefix).legacy_index("u1"), {w.key(foreign).removeprefix(f"{w.prefix}s:"): 2e9})


def list_pruning(w: World) -> tuple[Action, Promise]:
    _damaged_indexes(w)
    return (lambda s: s.list_by_user("u1")), lambda result: Expect()


def find_pruning(w: World) -> tuple[Action, Promise]:
    _damaged_indexes(w)
    return (lambda s: s.find_by_client("u1", "10.0.0.1", "A")), lambda result: Expect()


def close_mixed(w: World) -> tuple[Action, Promise]:
    doomed = {w.tagged("u1", address="10.0.0.1").id, w.legacy("u1", address="10.0.0.1").id}
    w.tagged("u1", address="10.0.0.2")
    w.legacy("u1", address="10.0.0.2")
    kept = w.tagged("u1", address="10.0.0.1")

    def promise(result: Any) -> Expect:
        if isinstance(result, int):
            assert result == len(doomed)
            return Expect(closed=doomed, alive={kept.id})
        return Expect()

    return (lambda s: s.close_by_user("u1", address="10.0.0.1", keep=kept.id)), promise


SCENARIOS: list[Scenario] = [
    create_anonymous,
    create_tagged,
    create_tagged_at_the_cap,
    login_from_anonymous,
    regenerate_at_the_cap,
    legacy_login_at_the_cap,
    legacy_regenerate,
    login_over_another_users_legacy_session,
    load_due,
    load_from_memo,
    load_damaged,
    load_damaged_from_memo,
    save,
    save_after_close,
    delete_tagged,
    delete_legacy,
    list_pruning,
    find_pruning,
    close_mixed,
]


# -- the harness ---------------------------------------------------------------------------


def live_sessions(raw: Any, prefix: str, now: float) -> dict[str, SessionRecord]:
    """Every live session stored under ``prefix``, read past the store."""
    found: dict[str, SessionRecord] = {}
    for key in raw.scan_iter(match=f"{prefix}s:*"):
        if raw.type(key) != b"hash":
            continue
        token = decode(key)[len(prefix) + 2 :].split("{")[0]
        record = decode_record(raw.hgetall(key), token)
        if record is not None and record.is_live(now):
            found[record.id] = record
    return found


class Harness:
    def __init__(self, clients: tuple[Any, Any], raw: Any, runner: asyncio.Runner, api: str) -> None:
        self.clients, self.raw, self.runner, self.api = clients, raw, runner, api
        self.runs = 0

    def world(self) -> tuple[World, Fault, Any]:
        self.runs += 1
        prefix = f"faults-{new_session_id()[:10]}:"
        clock, fault = FakeClock(), Fault()
        sync, async_ = self.clients
        store = RedisStore(
            client=FaultySyncClient(sync, fault),  # type: ignore[arg-type]
            async_client=FaultyAsyncClient(async_, fault),  # type: ignore[arg-type]
            prefix=prefix,
            clock=clock,
        )
        facade = store if self.api == "sync" else AsyncTwin(store, self.runner)
        return World(facade, clock, self.raw, prefix), fault, store

    def steps(self, scenario: Scenario) -> int:
        world, fault, _ = self.world()
        action, _promise = scenario(world)
        fault.arm()
        action(world.store)
        return fault.disarm()

    def run(self, scenario: Scenario, at: int, mode: str) -> None:
        world, fault, store = self.world()
        action, promise = scenario(world)
        before = set(world.closed)
        fault.arm(at, mode)
        try:
            result: Any = action(world.store)
        except StoreError as exc:
            assert isinstance(exc.__cause__, InjectedConnectionError | InjectedTimeout), repr(exc.__cause__)
            result = exc
        fault.disarm()
        assert fault.fired
        expect = promise(result)
        self.check(world, store, expect, before)

    def check(self, world: World, store: RedisStore, expect: Expect, closed_before: set[str]) -> None:
        sync, _ = self.clients
        clean = RedisStore(client=sync, prefix=world.prefix, clock=world.clock)
        now = world.clock()
        live = live_sessions(self.raw, world.prefix, now)
        for user in USERS:
            listed = {r.id for r in clean.list_by_user(user)}
            alive = {sid for sid, r in live.items() if r.user_id == user}
            assert alive <= listed, f"alive but unlisted: {alive - listed}"
        for sid in closed_before | expect.closed:
            assert sid not in live, "a closed session is alive"
            assert world.store.load_and_touch(sid, touch_interval=INTERVAL) is None
        for sid in expect.alive:
            assert sid in live, "an acknowledged session is lost"
        for sid, data in expect.data.items():
            assert live[sid].data == data, "an acknowledged save is lost"
        for user in USERS:
            clean.close_by_user(user)
        assert not [r for r in live_sessions(self.raw, world.prefix, now).values() if r.user_id is not None]


@pytest.fixture
def harness(
    request: pytest.FixtureRequest, redis_clients: tuple[Any, Any], redis_server: Any, async_runner: asyncio.Runner
) -> Iterator[Harness]:
    raw = redis_server.client(decode_responses=False)
    for script in SCRIPTS:  # so that a script's first use is not an extra EVAL
        raw.script_load(script.lua)
    yield Harness(redis_clients, raw, async_runner, request.param)
    raw.close()


@pytest.mark.parametrize("harness", ["sync", "async"], indirect=True)
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
def test_every_partial_failure_keeps_the_promises(harness: Harness, scenario: Scenario) -> None:
    steps = harness.steps(scenario)
    assert steps >= 1
    for at in range(1, steps + 1):
        for mode in MODES:
            harness.run(scenario, at, mode)
