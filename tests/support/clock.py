"""A controllable clock for stores and middleware under test."""

from __future__ import annotations


class FakeClock:
    """A clock that only moves when told to (``tick``), in epoch seconds.

    Pass it as ``clock=`` to a store; every store decides expiry with its clock, so a
    test can jump past an idle or absolute timeout instantly.
    """

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = float(start)

    def __call__(self) -> float:
        return self.now

    def tick(self, seconds: float) -> float:
        """Move forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("a clock does not run backwards")
        self.now += seconds
        return self.now
