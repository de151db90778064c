"""Store calls as data, so one piece of logic serves the sync and the async world.

Logic that needs the store is written once as a generator that yields
:class:`StoreCall` objects and receives their results (the shape of httpx's auth
flows). :func:`run_flow` performs the calls with a store's sync methods,
:func:`arun_flow` awaits their ``a``-prefixed twins. These two drivers are the only
code that exists twice.
"""

from __future__ import annotations

from collections.abc import Generator, Mapping
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar

from .exceptions import StoreError
from .stores.base import Store

T = TypeVar("T")


class StoreCall(NamedTuple):
    """One call of a :class:`~session_middleware.stores.base.Store` method, by name.

    A named tuple: a request that changes its session builds one, and a tuple is built
    in half the time of a frozen dataclass."""

    method: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = MappingProxyType({})


#: A flow yields store calls, is sent their results, and returns a value.
Flow = Generator[StoreCall, Any, T]


def run_flow(flow: Flow[T], store: Store) -> T:
    """Drive ``flow`` with the store's sync methods.

    :raises StoreError: when the store fails in any way (the flow is closed first).
    """
    try:
        call = next(flow)
        while True:
            try:
                result = getattr(store, call.method)(*call.args, **call.kwargs)
            except Exception as exc:
                flow.close()
                raise _as_store_error(exc) from exc
            call = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def arun_flow(flow: Flow[T], store: Store) -> T:
    """Drive ``flow`` with the store's async methods (``a`` + the method name)."""
    try:
        call = next(flow)
        while True:
            try:
                result = await getattr(store, "a" + call.method)(*call.args, **call.kwargs)
            except Exception as exc:
                flow.close()
                raise _as_store_error(exc) from exc
            call = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


def _as_store_error(exc: Exception) -> StoreError:
    if isinstance(exc, StoreError):
        return exc
    return StoreError(f"session store failed: {type(exc).__name__}")
