"""A clock that tests move by hand, so lifecycle tests skip time instead of sleeping."""

from __future__ import annotations

import math
import threading
import time


class FakeClock:
    """Epoch seconds that only change when the test says so.

    Pass it wherever the package takes a clock (``MemoryStore(clock=clock)``,
    ``RedisStore(..., clock=clock)``, the middleware's ``clock=`` option): calling it
    returns the current fake time. Time never moves backwards, as a store may rely on.

    :param start: the initial time; by default the real current time, whole seconds,
        so that stores whose backend keeps absolute expiry times (Redis) see dates
        that make sense.
    """

    def __init__(self, start: float | None = None) -> None:
        now = float(math.floor(time.time()) if start is None else start)
        if not math.isfinite(now) or now < 0:
            raise ValueError("start must be a finite, non-negative number of epoch seconds")
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now!r})"

    @property
    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward by ``seconds`` and return the new time.

        :raises ValueError: for a negative or non-finite amount.
        """
        if not math.isfinite(seconds) or seconds < 0:
            raise ValueError("a FakeClock only moves forward by a finite amount")
        with self._lock:
            self._now += seconds
            return self._now

    def tick(self, seconds: float = 1.0) -> float:
        """Advance by one small step (a second by default): the gap between two requests."""
        return self.advance(seconds)

    def set(self, when: float) -> float:
        """Jump to ``when``, which must not be in the clock's past."""
        with self._lock:
            if not math.isfinite(when) or when < self._now:
                raise ValueError("a FakeClock never moves backwards")
            self._now = float(when)
            return self._now
