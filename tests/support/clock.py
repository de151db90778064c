"""The clock for stores and middleware under test: the testing kit's, from a fixed start."""

from __future__ import annotations

from session_middleware.testing.clock import FakeClock as _KitClock


class FakeClock(_KitClock):
    """The testing kit's clock from a fixed start, so dates in tests are stable."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        super().__init__(start)
