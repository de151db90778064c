"""The store calls Django's session engine makes, each with its sync and its async call.

The engine's logic is written once as generators that yield these and are sent their
results; :func:`run` and :func:`arun` perform them through the package's flow drivers.
"""

from __future__ import annotations

import inspect
from collections.abc import Generator
from typing import Any, NamedTuple, Protocol, TypeVar

from asgiref.sync import sync_to_async

from ..._drive import adrive, drive
from ...records import DataChanges, SessionRecord
from ...stores.base import AsyncFromSync, Store

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Op(Protocol[T_co]):
    def run(self, store: Store) -> T_co: ...

    async def arun(self, store: Store) -> T_co: ...


Flow = Generator[Op[Any], Any, T]

_takes_interval: dict[type, bool] = {}


def _interval_known(store: Store) -> bool:
    """Whether the store's ``load_and_touch`` takes ``touch_interval`` (the protocol's does;
    a store written before it touches on every load, which is always correct)."""
    kind = type(store)
    known = _takes_interval.get(kind)
    if known is None:
        known = _takes_interval[kind] = "touch_interval" in inspect.signature(store.load_and_touch).parameters
    return known


class Load(NamedTuple):
    """Load a live session, refreshing it when its stored ``last_request`` is older than ``touch_interval``."""

    session_id: str
    touch_interval: float

    def run(self, store: Store) -> SessionRecord | None:
        if _interval_known(store):
            return store.load_and_touch(self.session_id, touch_interval=self.touch_interval)
        return store.load_and_touch(self.session_id)

    async def arun(self, store: Store) -> SessionRecord | None:
        if _interval_known(store):
            return await store.aload_and_touch(self.session_id, touch_interval=self.touch_interval)
        return await store.aload_and_touch(self.session_id)


class Create(NamedTuple):
    record: SessionRecord
    replaces: str | None = None
    max_per_user: int | None = None

    def run(self, store: Store) -> bool:
        return store.create(self.record, replaces=self.replaces, max_per_user=self.max_per_user)

    async def arun(self, store: Store) -> bool:
        return await store.acreate(self.record, replaces=self.replaces, max_per_user=self.max_per_user)


class SaveChanges(NamedTuple):
    session_id: str
    changes: DataChanges

    def run(self, store: Store) -> bool:
        return store.save_changes(self.session_id, self.changes)

    async def arun(self, store: Store) -> bool:
        return await store.asave_changes(self.session_id, self.changes)


class Delete(NamedTuple):
    session_id: str

    def run(self, store: Store) -> bool:
        return store.delete(self.session_id)

    async def arun(self, store: Store) -> bool:
        return await store.adelete(self.session_id)


class CloseByUser(NamedTuple):
    user_id: str
    keep: str | None = None

    def run(self, store: Store) -> int:
        return store.close_by_user(self.user_id, keep=self.keep)

    async def arun(self, store: Store) -> int:
        return await store.aclose_by_user(self.user_id, keep=self.keep)


def run(flow: Flow[T], store: Store) -> T:
    """Run ``flow`` with the store's sync methods."""
    return drive(flow, lambda op: op.run(store))


async def arun(flow: Flow[T], store: Store, *, server_loop: bool = True) -> T:
    """Run ``flow`` awaiting the store's async methods.

    :param server_loop: whether this runs on the server's own event loop. Django under
        WSGI runs each async view in a fresh loop, where a loop-bound client
        (``redis.asyncio``) cannot serve: the sync methods then run in a thread, as
        Django does for its database. A store that never blocks is called directly.
    """
    if isinstance(store, AsyncFromSync):
        # Its async twins only call the sync methods: skip the coroutine.
        return await adrive(flow, lambda op: _ready(op.run(store)))
    if server_loop:
        return await adrive(flow, lambda op: op.arun(store))
    return await adrive(flow, lambda op: sync_to_async(op.run)(store))


async def _ready(value: T) -> T:
    return value
