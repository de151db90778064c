"""A rate-limited log of store failures: one line per burst, not one per request.

When the store goes down, every request fails the same way; a line each would be
thousands of identical lines a minute, burying everything else. The first failure of a
burst is logged at once, the following ones within ``interval`` are only counted, and
one summary line reports them when the next failure arrives after the interval (or on
:meth:`StoreFailureLog.flush`, at shutdown). Lines name the error's class (and the
backend error's behind a ``StoreError``), the operation and the session's short hash: never
a raw id, never session data, never the error's text (a backend's message may quote what it
was sent). Tracebacks go to DEBUG.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

_FIRST = "session store failure: %s during %s (session %s)"
_SUMMARY = "%d more store failures in the last %ss (last: %s during %s)"


class StoreFailureLog:
    """Logs store failures on ``logger``, at most about two lines per ``interval`` seconds.

    Thread-safe: WSGI servers report from many threads at once.

    :param logger: where the lines go (WARNING; tracebacks at DEBUG).
    :param interval: seconds during which further failures are only counted.
    :param clock: monotonic seconds; injectable for tests.
    """

    def __init__(
        self, logger: logging.Logger, interval: float = 5.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if not math.isfinite(interval) or interval < 0:
            raise ValueError("interval must be a finite, non-negative number of seconds")
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._burst_start: float | None = None  # when the last logged failure was
        self._suppressed = 0
        self._last = ("", "")  # (error class, operation) of the last suppressed failure

    def report(self, operation: str, exc: BaseException, session_hash: str | None) -> None:
        """Record one failure of ``operation`` (``"load"``, ``"save"``...) for the session ``session_hash``."""
        name = _describe(exc)
        with self._lock:
            now = self._clock()
            if self._burst_start is not None and now - self._burst_start < self.interval:
                self._suppressed += 1
                self._last = (name, operation)
                return
            summary = self._take_summary(now)
            self._burst_start = now
        if summary is not None:
            self.logger.warning(_SUMMARY, *summary)
        self.logger.warning(_FIRST, name, operation, session_hash or "none")
        self.logger.debug("store failure traceback (%s during %s)", name, operation, exc_info=exc)

    def flush(self) -> None:
        """Log the summary of failures counted but not yet reported (call it at shutdown)."""
        with self._lock:
            summary = self._take_summary(self._clock())
            self._burst_start = None  # the next failure starts a new burst
        if summary is not None:
            self.logger.warning(_SUMMARY, *summary)

    def _take_summary(self, now: float) -> tuple[int, str, str, str] | None:
        """The suppressed count since the burst began, reset; ``None`` if there is none."""
        if not self._suppressed or self._burst_start is None:
            return None
        count, (name, operation) = self._suppressed, self._last
        self._suppressed = 0
        return count, _seconds(now - self._burst_start), name, operation


def _describe(exc: BaseException) -> str:
    """``StoreError (ConnectionError)``: the class, and the backend error's behind it if any."""
    cause = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    name = type(exc).__name__
    return name if cause is None else f"{name} ({type(cause).__name__})"


def _seconds(value: float) -> str:
    """``5``, ``12.5``: a duration to a tenth of a second, without a trailing ``.0``."""
    return f"{value:.1f}".removesuffix(".0")
