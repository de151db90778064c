"""Bounding the async Redis calls with one coarse timer per event loop, not one per call.

``asyncio.timeout`` schedules and cancels a timer handle for every call it bounds, about
8 µs on CPython 3.11, and a request makes one or two store calls. Here a call registers
its task and deadline in a dict; one timer per event loop, running only while calls are
in flight, cancels the tasks whose deadline has passed, and the call turns that
cancellation into a ``TimeoutError``. A call therefore fails between ``timeout`` and
``timeout`` plus a quarter of it after it started.

The cancellation is asyncio's own, so it lands where the task waits: inside the call,
which redis-py answers by dropping the connection (no later command can read the late
reply). As with ``asyncio.timeout``, a cancellation from elsewhere that arrives at the
same time still propagates as ``CancelledError``.
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")
A = TypeVar("A")


class _LoopDeadlines:
    """The calls in flight on one event loop, oldest first, and the timer that sweeps them.

    It holds no reference to its loop (the loop is the key of a weak dictionary whose
    value this is): the loop is passed in, and the loop's timer holds the sweep."""

    __slots__ = ("timeout", "tick", "calls", "expired", "timer", "serial")

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.tick = timeout / 4
        #: call number -> (task, deadline); one timeout for all, so oldest first is soonest first.
        self.calls: dict[int, tuple[asyncio.Task[object], float]] = {}
        self.expired: set[int] = set()
        #: A sweep is scheduled (the handle itself is not kept: it refers to the loop).
        self.timer = False
        self.serial = 0

    def add(self, loop: asyncio.AbstractEventLoop, task: asyncio.Task[object]) -> int:
        number = self.serial = self.serial + 1
        self.calls[number] = (task, loop.time() + self.timeout)
        if not self.timer:
            loop.call_later(self.tick, self.sweep, loop)
            self.timer = True
        return number

    def sweep(self, loop: asyncio.AbstractEventLoop) -> None:
        self.timer = False
        now = loop.time()
        calls = self.calls
        for number, (task, deadline) in list(calls.items()):
            if deadline > now:
                break  # every later call started later
            del calls[number]
            self.expired.add(number)
            task.cancel()
        if calls:
            loop.call_later(self.tick, self.sweep, loop)
            self.timer = True


class Deadlines:
    """Runs awaitables with a deadline of ``timeout`` seconds each (see the module)."""

    __slots__ = ("timeout", "_loops", "_last", "_lock")

    def __init__(self, timeout: float) -> None:
        if not timeout > 0:
            raise ValueError("a timeout must be positive")
        self.timeout = timeout
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopDeadlines] = weakref.WeakKeyDictionary()
        #: The loop of the last call and its deadlines: one comparison on the common path.
        self._last: tuple[weakref.ref[asyncio.AbstractEventLoop], _LoopDeadlines] | None = None
        self._lock = threading.Lock()

    def _for(self, loop: asyncio.AbstractEventLoop) -> _LoopDeadlines:
        last = self._last
        if last is not None and last[0]() is loop:
            return last[1]
        with self._lock:
            deadlines = self._loops.get(loop)
            if deadlines is None:
                deadlines = self._loops[loop] = _LoopDeadlines(self.timeout)
        self._last = (weakref.ref(loop), deadlines)
        return deadlines

    async def run(self, call: Callable[[A], Awaitable[T]], arg: A) -> T:
        """``await call(arg)``, or ``TimeoutError`` once the deadline has passed."""
        task = asyncio.current_task()
        if task is None:  # not in a task (a bare coroutine driven by hand): no deadline
            return await call(arg)
        loop = asyncio.get_running_loop()
        deadlines = self._for(loop)
        cancelling = task.cancelling()
        number = deadlines.add(loop, task)
        try:
            return await call(arg)
        except asyncio.CancelledError:
            if number in deadlines.expired and task.uncancel() <= cancelling:
                raise TimeoutError(f"no reply from Redis within {self.timeout} s") from None
            raise
        finally:
            deadlines.calls.pop(number, None)
            deadlines.expired.discard(number)
