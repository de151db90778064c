"""A reference store: the Store protocol's semantics in plain dicts, as a test oracle."""

from __future__ import annotations

from dataclasses import replace
from itertools import count

from ..records import DataChanges, SessionRecord
from ..stores.base import Clock
from ..stores.memory import bumps_recency


class StoreModel:
    """What any store must answer, written for clarity rather than speed.

    It follows the docstrings of :class:`~session_middleware.stores.base.Store`: a session
    is gone once ``clock() >= expires_at``; writes never bring back a session that is
    gone; ``replaces`` goes first, then the per-user cap, then (for a bounded store) the
    least recently used session is evicted. A *use* is a create or a load-and-touch that
    records the request (``last_request``): a load-and-touch within ``touch_interval`` of
    the stored ``last_request`` returns the session as stored and changes nothing, its
    place in the eviction order included, and a save changes data only.

    :param maxsize: the store's capacity, or ``None`` for an unbounded store.
    :param recency_granularity: seconds; a load-and-touch that records the request counts
        as a use only when it falls in a later slot of this length than the session's last request
        (MemoryStore's :data:`~session_middleware.stores.memory.RECENCY_GRANULARITY`); 0
        counts every one.
    """

    def __init__(self, clock: Clock, *, maxsize: int | None = None, recency_granularity: float = 0.0) -> None:
        self.clock = clock
        self.maxsize = maxsize
        self.recency_granularity = recency_granularity
        self._records: dict[str, SessionRecord] = {}
        self._used: dict[str, int] = {}
        self._uses = count()
        #: Every id that was stored once and is gone now (closed, replaced, expired, evicted).
        self.gone: set[str] = set()

    # -- inspection ----------------------------------------------------------------------

    def live(self) -> dict[str, SessionRecord]:
        """The live sessions by id (expired ones are dropped first)."""
        now = self.clock()
        for sid in [sid for sid, r in self._records.items() if not r.is_live(now)]:
            self._forget(sid)
        return dict(self._records)

    def get(self, session_id: str) -> SessionRecord | None:
        """A live session without counting a use (for checks, not a store operation)."""
        return self.live().get(session_id)

    def user_sessions(self, user_id: str) -> list[SessionRecord]:
        return [r for r in self.live().values() if r.user_id == user_id]

    # -- the store operations --------------------------------------------------------------

    def create(self, record: SessionRecord, *, replaces: str | None = None, max_per_user: int | None = None) -> bool:
        live = self.live()
        if replaces is not None:
            if replaces not in live:
                return False
            self._forget(replaces)
        if max_per_user is not None and record.user_id is not None:
            mine = sorted(self.user_sessions(record.user_id), key=lambda r: r.last_request)
            for old in mine[: max(0, len(mine) - max_per_user + 1)]:
                self._forget(old.id)
        if self.maxsize is not None and record.id not in self._records and len(self._records) >= self.maxsize:
            self._forget(min(self._records, key=self._used.__getitem__))
        self._records[record.id] = record
        self._use(record.id)
        self.gone.discard(record.id)
        return True

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        record = self.live().get(session_id)
        if record is None or (user_id is not None and record.user_id != user_id):
            return None
        now, previous = self.clock(), record.last_request
        if now - previous < touch_interval:
            return record
        record = self._records[session_id] = record.touched(now)
        if bumps_recency(previous, now, self.recency_granularity):
            self._use(session_id)
        return record

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        record = self.live().get(session_id)
        if record is None:
            return False
        self._records[session_id] = replace(record, data=changes.apply(record.data))
        return True

    def delete(self, session_id: str) -> bool:
        if session_id not in self.live():
            return False
        self._forget(session_id)
        return True

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return sorted(self.user_sessions(user_id), key=lambda r: r.opened)

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        matches = [r for r in self.user_sessions(user_id) if (r.address, r.client) == (address, client)]
        return max(matches, key=lambda r: r.last_request, default=None)

    def close_by_user(
        self, user_id: str, *, address: str | None = None, client: str | None = None, keep: str | None = None
    ) -> int:
        doomed = [
            r.id
            for r in self.user_sessions(user_id)
            if r.id != keep and address in (None, r.address) and client in (None, r.client)
        ]
        for sid in doomed:
            self._forget(sid)
        return len(doomed)

    # -- bookkeeping -----------------------------------------------------------------------

    def _use(self, session_id: str) -> None:
        self._used[session_id] = next(self._uses)

    def _forget(self, session_id: str) -> None:
        del self._records[session_id]
        del self._used[session_id]
        self.gone.add(session_id)
