"""The package's only pair of flow drivers: logic written once, I/O done twice.

Logic that needs I/O at several points is a generator (a *flow*) that yields operations
and is sent their results, the shape of httpx's auth flows. :func:`drive` performs each
operation with a sync callable, :func:`adrive` awaits an async one. The session core,
the REST API and RedisStore all run their flows through these two functions.

An operation that raises one of ``recoverable`` has the exception thrown into the flow,
so the flow can undo a half-done step or decide the failure is harmless; any other
exception closes the flow and propagates unchanged (a bug is never mistaken for an
unavailable backend).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from typing import Any, TypeVar

Op = TypeVar("Op")
R = TypeVar("R")


def drive(
    flow: Generator[Op, Any, R],
    perform: Callable[[Op], Any],
    recoverable: tuple[type[BaseException], ...] = (),
) -> R:
    """Run ``flow`` to its end, performing each operation with ``perform``."""
    try:
        op = next(flow)
        while True:
            try:
                result = perform(op)
            except recoverable as exc:
                op = flow.throw(exc)
            except BaseException:
                flow.close()
                raise
            else:
                op = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]


async def adrive(
    flow: Generator[Op, Any, R],
    perform: Callable[[Op], Awaitable[Any]],
    recoverable: tuple[type[BaseException], ...] = (),
) -> R:
    """Run ``flow`` to its end, awaiting each operation with ``perform``."""
    try:
        op = next(flow)
        while True:
            try:
                result = await perform(op)
            except recoverable as exc:
                op = flow.throw(exc)
            except BaseException:
                flow.close()
                raise
            else:
                op = flow.send(result)
    except StopIteration as stop:
        return stop.value  # type: ignore[no-any-return]
