"""Running the engine's store flows from Django, sync or async.

The engine's logic is written once as generators of the package's typed store operations
(:mod:`session_middleware._ops`); :func:`run` and :func:`arun` perform them through the
package's flow drivers. What is Django's own here is where an async flow runs.
"""

from __future__ import annotations

from typing import TypeVar

from asgiref.sync import sync_to_async

from ..._drive import adrive
from ..._ops import CloseByUser, Create, Delete, Flow, Load, SaveChanges
from ..._ops import run_flow as run
from ...stores.base import AsyncFromSync, Store

__all__ = ["CloseByUser", "Create", "Delete", "Flow", "Load", "SaveChanges", "arun", "run"]

T = TypeVar("T")


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
