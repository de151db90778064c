"""Store operations as typed values, so one piece of logic serves the sync and the async world.

Logic that needs the store (the middleware's commit, every REST API route) is written
once as a generator that yields these operations and is sent their results. Each
operation knows its sync and its async call, so mypy checks every store method by name;
:func:`run_flow` and :func:`arun_flow` perform them through the package's one pair of
drivers (``session_middleware._drive``).

Only a store's own backend errors are :class:`~session_middleware.StoreError`; a store
raises them itself. Anything else a store raises is a bug and propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, NamedTuple, Protocol, TypeVar

from ._drive import adrive, drive
from .records import DataChanges, SessionRecord
from .stores.base import Store

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class StoreOp(Protocol[T_co]):
    """One store call, performed synchronously or awaited."""

    def run(self, store: Store) -> T_co: ...

    async def arun(self, store: Store) -> T_co: ...


#: A flow yields store operations, is sent their results, and returns a value.
Flow = Generator[StoreOp[Any], Any, T]

# Named tuples rather than frozen dataclasses: a request that changes its session builds
# one, and a tuple is built in half the time.


class Load(NamedTuple):
    """Load a live session and record a request on it (``Store.load_and_touch``)."""

    session_id: str
    user_id: str | None = None
    touch_interval: float = 0.0

    def run(self, store: Store) -> SessionRecord | None:
        return store.load_and_touch(self.session_id, user_id=self.user_id, touch_interval=self.touch_interval)

    async def arun(self, store: Store) -> SessionRecord | None:
        return await store.aload_and_touch(self.session_id, user_id=self.user_id, touch_interval=self.touch_interval)


class Create(NamedTuple):
    """Store a new session, possibly replacing one and capping its user's sessions."""

    record: SessionRecord
    replaces: str | None = None
    max_per_user: int | None = None

    def run(self, store: Store) -> bool:
        return store.create(self.record, replaces=self.replaces, max_per_user=self.max_per_user)

    async def arun(self, store: Store) -> bool:
        return await store.acreate(self.record, replaces=self.replaces, max_per_user=self.max_per_user)


class SaveChanges(NamedTuple):
    """Apply per-key data changes to a live session."""

    session_id: str
    changes: DataChanges

    def run(self, store: Store) -> bool:
        return store.save_changes(self.session_id, self.changes)

    async def arun(self, store: Store) -> bool:
        return await store.asave_changes(self.session_id, self.changes)


class Delete(NamedTuple):
    """Close one session."""

    session_id: str

    def run(self, store: Store) -> bool:
        return store.delete(self.session_id)

    async def arun(self, store: Store) -> bool:
        return await store.adelete(self.session_id)


class ListByUser(NamedTuple):
    """A user's live sessions, oldest first."""

    user_id: str

    def run(self, store: Store) -> list[SessionRecord]:
        return store.list_by_user(self.user_id)

    async def arun(self, store: Store) -> list[SessionRecord]:
        return await store.alist_by_user(self.user_id)


class FindByClient(NamedTuple):
    """A user's most recently used session from one address and client."""

    user_id: str
    address: str
    client: str

    def run(self, store: Store) -> SessionRecord | None:
        return store.find_by_client(self.user_id, self.address, self.client)

    async def arun(self, store: Store) -> SessionRecord | None:
        return await store.afind_by_client(self.user_id, self.address, self.client)


class CloseByUser(NamedTuple):
    """Close a user's sessions (those matching address and client when given), except ``keep``."""

    user_id: str
    address: str | None = None
    client: str | None = None
    keep: str | None = None

    def run(self, store: Store) -> int:
        return store.close_by_user(self.user_id, address=self.address, client=self.client, keep=self.keep)

    async def arun(self, store: Store) -> int:
        return await store.aclose_by_user(self.user_id, address=self.address, client=self.client, keep=self.keep)


class Ping(NamedTuple):
    """Check that the store's backend answers (``StoreError`` if not)."""

    def run(self, store: Store) -> None:
        store.ping()

    async def arun(self, store: Store) -> None:
        await store.aping()


def run_flow(flow: Flow[T], store: Store) -> T:
    """Drive ``flow`` with the store's sync methods."""
    return drive(flow, lambda op: op.run(store))


async def arun_flow(flow: Flow[T], store: Store) -> T:
    """Drive ``flow`` with the store's async methods."""
    return await adrive(flow, lambda op: op.arun(store))
