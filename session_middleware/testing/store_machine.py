"""A Hypothesis state machine that checks any session store against the reference model."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import math
from typing import Any, ClassVar, TypeVar

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, MultipleResults, RuleBasedStateMachine, initialize, invariant, multiple, rule

from .._ops import CloseByUser, Create, Delete, FindByClient, ListByUser, Load, Ping, SaveChanges, StoreOp
from ..records import DataChanges, SessionRecord, encode_value
from ..stores.base import Store
from .clock import FakeClock
from .store_model import StoreModel

__all__ = ["AsyncStoreLifecycle", "StoreLifecycle", "assert_same_record"]

_USERS = ("alice", "bob", "Ünï Cöde")
# (address, client) pairs: two addresses, two clients.
_ORIGINS = (
    ("127.0.0.1", "firefox"),
    ("127.0.0.1", "curl/8.5"),
    ("2001:db8::1", "firefox"),
    ("2001:db8::1", "curl/8.5"),
)
# (idle, absolute) timeouts: sometimes the absolute expiry comes first.
_LIFETIMES = ((60.0, 120.0), (10.0, 86400.0), (3600.0, 30.0), (60.0, 86400.0))
_STEPS = (0.5, 1.0, 5.0, 9.0, 10.0, 11.0, 29.0, 30.0, 59.0, 60.0, 61.0, 600.0)
#: The middleware's default ``touch_interval`` is the smaller of this and a tenth of the idle timeout.
_TOUCH_INTERVAL_CAP = 60.0

T = TypeVar("T")


def _json(**values: Any) -> dict[str, str]:
    return {key: encode_value(key, value) for key, value in values.items()}


# Data is opaque JSON text to a store: what matters is which keys change, plus a few
# values that trip codecs (big and negative-zero numbers, non-BMP text, NUL, nesting).
_DATA = (_json(), _json(a=1), _json(a="ünï 😀", b=2**64), _json(cart=[1, [2, None]], b={"k": {"": True}}))
_CHANGES = (
    DataChanges(),
    DataChanges(_json(a=0)),
    DataChanges(_json(b="\x00\u2028")),
    DataChanges(_json(cart=-0.0)),
    DataChanges(_json(a=[], b=1.5)),
    DataChanges(removed=frozenset({"a"})),
    DataChanges(_json(cart={"n": None}), frozenset({"b"})),
    DataChanges(clear=True),
    DataChanges(_json(b=-1), clear=True),
)


def assert_same_record(actual: SessionRecord | None, expected: SessionRecord | None, what: str) -> None:
    """Fail with a readable message unless the two records agree (times to the millisecond)."""
    if expected is None or actual is None:
        assert actual is expected, f"{what}: expected {_brief(expected)}, store returned {_brief(actual)}"
        return
    for name in ("id", "address", "client"):
        assert getattr(actual, name) == getattr(expected, name), f"{what}: {name} differs"
    for name in ("opened", "last_request", "idle_timeout", "absolute_expiry"):
        a, e = getattr(actual, name), getattr(expected, name)
        assert math.isclose(a, e, abs_tol=1e-3), f"{what}: {name} is {a!r}, expected {e!r}"
    assert (None if actual.user is None else dict(actual.user)) == (
        None if expected.user is None else dict(expected.user)
    ), f"{what}: user is {actual.user!r}, expected {expected.user!r}"
    assert dict(actual.data) == dict(expected.data), (
        f"{what}: data is {dict(actual.data)!r}, expected {expected.data!r}"
    )


def _brief(record: SessionRecord | None) -> str:
    return "nothing" if record is None else f"session {record.id[:8]}… of user {record.user_id!r}"


class StoreLifecycle(RuleBasedStateMachine):
    """Drives a store through random sequences of every Store operation, moving a fake
    clock, and checks each answer against :class:`StoreModel`.

    Subclass it, implement :meth:`make_store` (build the store on the given clock) and
    collect ``YourMachine.TestCase`` under pytest. Set ``use_async = True`` (or subclass
    :class:`AsyncStoreLifecycle`) to drive the ``a``-prefixed methods instead, and
    ``maxsize`` when the store is bounded, so the model evicts like it must, and
    ``recency_granularity`` if the store counts a session's recorded requests as one use
    per slot of that many seconds (MemoryStore: :data:`~session_middleware.stores.memory.RECENCY_GRANULARITY`).
    Loads pass ``touch_interval``: by default the middleware's, the smaller of 60 s and a
    tenth of the session's idle timeout; set it to a number (``0``: touch on every load)
    to check the store with that interval instead.
    """

    #: Drive the async twins (each call awaited on one event loop per run).
    use_async: ClassVar[bool] = False
    #: The store's capacity, if it evicts the least recently used session when full.
    maxsize: ClassVar[int | None] = None
    #: Seconds within which a session's recorded requests count as one use for eviction (0: each counts).
    recency_granularity: ClassVar[float] = 0.0
    #: Seconds passed as every load's ``touch_interval``; None: the middleware's default for the session.
    touch_interval: ClassVar[float | None] = None

    ids = Bundle("ids")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.loop = asyncio.new_event_loop() if self.use_async else None
        self.store = self.make_store(self.clock)
        self.model = StoreModel(self.clock, maxsize=self.maxsize, recency_granularity=self.recency_granularity)
        self._issued = 0

    def make_store(self, clock: FakeClock) -> Store:
        """Build a fresh, empty store that reads time from ``clock``."""
        raise NotImplementedError("subclass StoreLifecycle and implement make_store(clock)")

    def teardown(self) -> None:
        try:
            if self.loop is not None:
                self.loop.run_until_complete(self.store.aclose())
            else:
                self.store.close()
        finally:
            if self.loop is not None:
                self.loop.close()

    def call(self, op: StoreOp[T]) -> T:
        """Perform one store operation: its sync call, or its async twin in async mode."""
        if self.loop is None:
            return op.run(self.store)
        return self.loop.run_until_complete(op.arun(self.store))

    # -- creating ------------------------------------------------------------------------

    def _new_record(
        self, user: str | None, origin: tuple[str, str], data: dict[str, str], lifetime: tuple[float, float]
    ) -> SessionRecord:
        now = self.clock()
        return SessionRecord(
            id=self._fresh_id(),
            opened=now,
            last_request=now,
            idle_timeout=lifetime[0],
            absolute_expiry=now + lifetime[1],
            address=origin[0],
            client=origin[1],
            user=None if user is None else {"id": user, "name": user.title()},
            data=data,
        )

    def _fresh_id(self) -> str:
        # Ids are not drawn: they would only slow shrinking, and each must be unique.
        self._issued += 1
        digest = hashlib.sha256(b"session %d" % self._issued).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def _create(self, record: SessionRecord, replaces: str | None, max_per_user: int | None) -> str:
        expected = self.model.create(record, replaces=replaces, max_per_user=max_per_user)
        created = self.call(Create(record, replaces, max_per_user))
        assert created is expected, (
            f"create(replaces={replaces is not None}) returned {created!r}, expected {expected!r}"
        )
        self.clock.tick()  # every stored timestamp differs, so LRU and ordering are exact
        return record.id

    _changes = st.sampled_from(_CHANGES)

    @initialize(target=ids, users=st.lists(st.none() | st.sampled_from(_USERS), min_size=1, max_size=3))
    def open_sessions(self, users: list[str | None]) -> MultipleResults[str]:
        """Start with a few sessions and one id that was never stored, so every rule
        has something to work on from the first step."""
        created = [
            self._create(self._new_record(user, _ORIGINS[0], _DATA[1], _LIFETIMES[0]), None, None) for user in users
        ]
        return multiple(*created, self._fresh_id())

    @rule(
        target=ids,
        user=st.none() | st.sampled_from(_USERS),
        origin=st.sampled_from(_ORIGINS),
        data=st.sampled_from(_DATA),
        lifetime=st.sampled_from(_LIFETIMES),
        max_per_user=st.none() | st.integers(min_value=1, max_value=3),
    )
    def create(
        self,
        user: str | None,
        origin: tuple[str, str],
        data: dict[str, str],
        lifetime: tuple[float, float],
        max_per_user: int | None,
    ) -> str:
        record = self._new_record(user, origin, data, lifetime)
        return self._create(record, None, max_per_user)

    @rule(
        target=ids,
        replaces=ids,
        user=st.none() | st.sampled_from(_USERS),
        origin=st.sampled_from(_ORIGINS),
        data=st.sampled_from(_DATA),
        lifetime=st.sampled_from(_LIFETIMES),
        max_per_user=st.none() | st.integers(min_value=1, max_value=3),
    )
    def create_replacing(
        self,
        replaces: str,
        user: str | None,
        origin: tuple[str, str],
        data: dict[str, str],
        lifetime: tuple[float, float],
        max_per_user: int | None,
    ) -> str:
        """A login or regenerate: the new session takes over from ``replaces``."""
        record = self._new_record(user, origin, data, lifetime)
        return self._create(record, replaces, max_per_user)

    # -- per-session operations ------------------------------------------------------------

    def _interval(self, record: SessionRecord | None) -> float:
        if self.touch_interval is not None:
            return self.touch_interval
        return 0.0 if record is None else min(_TOUCH_INTERVAL_CAP, record.idle_timeout / 10)

    def _load(self, sid: str, as_user: str | None = None, what: str = "load_and_touch") -> None:
        interval = self._interval(self.model.get(sid))
        expected = self.model.load_and_touch(sid, user_id=as_user, touch_interval=interval)
        actual = self.call(Load(sid, as_user, interval))
        assert_same_record(actual, expected, f"{what}(touch_interval={interval:g})")

    @rule(sid=ids, as_user=st.none() | st.sampled_from(_USERS))
    def load_and_touch(self, sid: str, as_user: str | None) -> None:
        self._load(sid, as_user)
        self.clock.tick()

    @rule(sid=ids, offset=st.sampled_from((-0.5, 0.0)))
    def load_when_due(self, sid: str, offset: float) -> None:
        """Jump to the moment the session is due for a touch (or just before), then load it:
        the interval's boundary must be exact."""
        record = self.model.get(sid)
        if record is not None:
            self.clock.set(max(self.clock(), record.last_request + self._interval(record) + offset))
        self._load(sid, what="load_when_due")
        self.clock.tick()

    @rule(sid=ids, changes=_changes)
    def save_changes(self, sid: str, changes: DataChanges) -> None:
        expected = self.model.save_changes(sid, changes)
        saved = self.call(SaveChanges(sid, changes))
        assert saved is expected, f"save_changes returned {saved!r}, expected {expected!r}"
        self.clock.tick()

    @rule(sid=ids, first=_changes, second=_changes)
    def overlapping_requests(self, sid: str, first: DataChanges, second: DataChanges) -> None:
        """Two requests load the same session, then each saves its own changes: both
        saves merge per key into what is stored, not into what the request loaded."""
        for _ in range(2):
            self._load(sid)
        for changes in (first, second):
            expected = self.model.save_changes(sid, changes)
            saved = self.call(SaveChanges(sid, changes))
            assert saved is expected, f"save_changes returned {saved!r}, expected {expected!r}"
        self._load(sid, what="load after saves")
        self.clock.tick()

    @rule(sid=ids)
    def delete(self, sid: str) -> None:
        expected = self.model.delete(sid)
        deleted = self.call(Delete(sid))
        assert deleted is expected, f"delete returned {deleted!r}, expected {expected!r}"

    # -- per-user operations ---------------------------------------------------------------

    @rule(user=st.sampled_from(_USERS), origin=st.sampled_from(_ORIGINS))
    def find_by_client(self, user: str, origin: tuple[str, str]) -> None:
        address, client = origin
        expected = self.model.find_by_client(user, address, client)
        assert_same_record(self.call(FindByClient(user, address, client)), expected, "find_by_client")

    @rule(
        user=st.sampled_from(_USERS),
        address=st.none() | st.sampled_from(sorted({a for a, _ in _ORIGINS})),
        client=st.none() | st.sampled_from(sorted({c for _, c in _ORIGINS})),
        keep=st.none() | st.integers(min_value=0, max_value=3),
    )
    def close_by_user(self, user: str, address: str | None, client: str | None, keep: int | None) -> None:
        mine = self.model.list_by_user(user)
        keep_id = mine[keep].id if keep is not None and keep < len(mine) else None
        expected = self.model.close_by_user(user, address=address, client=client, keep=keep_id)
        closed = self.call(CloseByUser(user, address, client, keep_id))
        assert closed == expected, f"close_by_user closed {closed!r} sessions, expected {expected!r}"

    @rule()
    def ping(self) -> None:
        """A readiness check answers (``None``) and changes nothing."""
        assert self.call(Ping()) is None, "ping() must return None"

    # -- time ------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from(_STEPS))
    def let_time_pass(self, seconds: float) -> None:
        self.clock.advance(seconds)

    @rule(sid=ids, offset=st.sampled_from((-1.0, 0.0)))
    def advance_to_expiry(self, sid: str, offset: float) -> None:
        """Jump to a session's expiry (or just before it): the boundary must be exact."""
        record = self.model.get(sid)
        if record is not None:
            self.clock.set(max(self.clock(), record.expires_at + offset))

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def lists_match_model(self) -> None:
        for user in _USERS:
            actual = self.call(ListByUser(user))
            expected = self.model.list_by_user(user)
            assert [r.id for r in actual] == [r.id for r in expected], (
                f"list_by_user({user!r}) gave {len(actual)} session(s), expected {len(expected)} "
                f"(stale: {sum(r.id in self.model.gone for r in actual)}, missing: "
                f"{len({r.id for r in expected} - {r.id for r in actual})})"
            )
            for got, want in zip(actual, expected, strict=True):
                assert_same_record(got, want, f"list_by_user({user!r})")


class AsyncStoreLifecycle(StoreLifecycle):
    """:class:`StoreLifecycle` on the store's async methods."""

    use_async = True
