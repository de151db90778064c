"""What this process knows of its sessions' last requests, so that a read can skip the touch.

A session's stored ``last_request`` only ever moves forward. Once this process has seen
it (a load or a create returned it), a later read within ``touch_interval`` of that value
is certainly a read within the interval of the stored one, so it needs no script: one
plain ``HGETALL`` that writes nothing. When the memo has nothing (another process served
the session, the entry was evicted), the read runs the touch-if-due script, which decides
on the stored value; the memo only ever saves work, it never decides a touch.
"""

from __future__ import annotations

import threading

#: Sessions remembered per store; past it the oldest entry goes (its next read runs the
#: script once). ~200 bytes an entry: 10,000 entries are about 2 MB.
DEFAULT_MEMO_SIZE = 10_000


class TouchMemo:
    """A bounded map of a session's key digest to a ``last_request`` known to be stored."""

    __slots__ = ("_lock", "_seen", "maxsize")

    def __init__(self, maxsize: int = DEFAULT_MEMO_SIZE) -> None:
        if maxsize < 1:
            raise ValueError("the memo needs room for at least one session")
        self.maxsize = maxsize
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._seen)

    def fresh(self, token: str, now: float, interval: float) -> bool:
        """Whether the stored ``last_request`` of ``token`` is certainly under ``interval`` old."""
        seen = self._seen.get(token)
        return seen is not None and now - seen < interval

    def note(self, token: str, last_request: float) -> None:
        """Remember that ``token``'s stored ``last_request`` is at least ``last_request``."""
        with self._lock:
            seen = self._seen.pop(token, None)
            if seen is None and len(self._seen) >= self.maxsize:
                # Insertion order: the entry noted longest ago is the least useful one.
                del self._seen[next(iter(self._seen))]
            self._seen[token] = last_request if seen is None else max(seen, last_request)

    def forget(self, token: str) -> None:
        """The session was closed here, or found gone: its next read asks Redis."""
        with self._lock:
            self._seen.pop(token, None)
