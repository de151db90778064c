"""The in-process session store: cachetools' LRUCache plus per-session expiry."""

from __future__ import annotations

import heapq
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from itertools import chain
from typing import Any

from cachetools import Cache, LRUCache

from ..records import DataChanges, SessionRecord
from .base import AsyncFromSync, Clock

# Theory of operation
# -------------------
# Sessions live in an LRUCache (bounded: when full, the least recently used session is
# evicted) as private ``_Entry`` objects. An entry is built from a record on the way in
# and every record handed out is built fresh from an entry, so a caller never shares a
# container with the store. A request's touch updates its entry in place.
#
# Expiry: a heap orders the entries by ``scheduled``, a lower bound of their expiry (the
# expiry when they were last scheduled; a touch only moves the real one later). Every
# operation first pops the entries whose scheduled time has come: one that really is
# expired is deleted, one touched since is rescheduled at its real expiry, without
# moving in the LRU order. So after ``expire(now)`` every entry left is live, reads need
# no check, and an active session costs one heap operation per idle period rather than
# one per request (cachetools' TLRUCache, used before, pushes on every update). Entries
# that leave otherwise are marked ``removed`` and dropped when they surface, or in a
# rebuild once they outnumber the live ones.
#
# Eviction order: a request moves its session to the most recently used end only when it
# is the session's first request in a new second (``bumps_recency``). The move relinks
# the session's node in cachetools' OrderedDict, which reaches its neighbours, other
# sessions' nodes: in a large store that is most of a read's cost in cache misses, and
# for sessions, which idle for minutes or hours, order within a second decides nothing.
# memcached bumps an item at most once a minute for the same reason.
#
# The per-user index (user id -> the id of the user's only session, or an ordered dict
# of ids) follows every way an entry leaves: ``del``, ``pop`` and size eviction
# (``popitem``) go through ``__delitem__``, expiry too, and an overwrite through
# ``__setitem__``. One lock serialises all of it, because cachetools is not thread-safe;
# nothing here blocks, so the async twins call the sync methods directly instead of
# going through a thread pool.
#
# Memory: an entry keeps a small user or data mapping as a flat tuple rather than a
# dict, and interns the address and client strings (sessions share User-Agents); a
# session with a user and 100 bytes of data takes under 1 KiB (docs/benchmarks.md).


# A small mapping (a user's id and name, a session's one or two keys) is kept as a
# flat tuple of keys and values, a third of a dict's size; a larger one as a dict, which
# copies faster than pairing up a long tuple.
Compact = tuple[Any, ...] | dict[str, Any]

#: Seconds: requests of a session within one such slot count as one use for eviction.
RECENCY_GRANULARITY = 1.0


def bumps_recency(previous: float, now: float, granularity: float = RECENCY_GRANULARITY) -> bool:
    """Whether a request at ``now``, after the session's last one at ``previous``, moves
    the session in the eviction order (always, with a granularity of 0)."""
    return granularity <= 0 or previous // granularity != now // granularity


def _compact(mapping: Mapping[str, Any]) -> Compact:
    size = len(mapping)
    if size > 2:
        return dict(mapping)
    if size == 2:
        (k1, v1), (k2, v2) = mapping.items()
        return (k1, v1, k2, v2)
    return tuple(chain.from_iterable(mapping.items()))


def _expand(stored: Compact) -> dict[str, Any]:
    if isinstance(stored, dict):
        return stored.copy()
    if not stored:
        return {}
    if len(stored) == 2:
        return {stored[0]: stored[1]}
    return {stored[0]: stored[1], stored[2]: stored[3]}


def _intern(text: str) -> str:
    return sys.intern(text) if type(text) is str else text


class _Entry:
    """One stored session, compact and private to the store."""

    __slots__ = (
        "id",
        "opened",
        "last_request",
        "idle_timeout",
        "absolute_expiry",
        "address",
        "client",
        "user_id",
        "user",
        "data",
        "scheduled",
        "removed",
    )

    def __init__(self, record: SessionRecord) -> None:
        self.id = record.id
        self.opened = record.opened
        self.last_request = record.last_request
        self.idle_timeout = record.idle_timeout
        self.absolute_expiry = record.absolute_expiry
        self.address = _intern(record.address)
        self.client = _intern(record.client)
        self.user_id = record.user_id
        self.user = None if record.user is None else _compact(record.user)
        self.data = _compact(record.data)
        #: When the heap looks at this entry next: never later than its expiry.
        self.scheduled = self.expires_at
        self.removed = False

    @property
    def expires_at(self) -> float:
        return min(self.last_request + self.idle_timeout, self.absolute_expiry)

    def __lt__(self, other: _Entry) -> bool:
        return self.scheduled < other.scheduled

    def record(self) -> SessionRecord:
        """A new record with containers of its own (values are immutable JSON text)."""
        return SessionRecord(
            self.id,
            self.opened,
            self.last_request,
            self.idle_timeout,
            self.absolute_expiry,
            self.address,
            self.client,
            None if self.user is None else _expand(self.user),
            _expand(self.data),
        )


class _Sessions(LRUCache[str, _Entry]):
    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.by_user: dict[str, str | dict[str, None]] = {}
        self.heap: list[_Entry] = []
        self.stale = 0  # removed entries still in the heap

    def peek(self, key: str) -> _Entry | None:
        """The entry, without counting a use."""
        try:
            entry: _Entry = Cache.__getitem__(self, key)
        except KeyError:
            return None
        return entry

    def use(self, key: str) -> None:
        """Make ``key`` the most recently used."""
        LRUCache.__getitem__(self, key)

    def __setitem__(self, key: str, value: _Entry) -> None:
        old = self.peek(key)
        if old is not None:
            self._forget(old)
        super().__setitem__(key, value)  # may evict, through __delitem__
        if value.user_id is not None:
            self._index(value)
        heapq.heappush(self.heap, value)

    def __delitem__(self, key: str) -> None:
        entry: _Entry = Cache.__getitem__(self, key)
        super().__delitem__(key)
        self._forget(entry)

    def expire(self, now: float) -> None:
        """Delete every entry whose expiry has come (``now >= expires_at``)."""
        heap = self.heap
        while heap and heap[0].scheduled <= now:
            entry = heap[0]
            if entry.removed:
                heapq.heappop(heap)
                self.stale -= 1
            elif now < entry.expires_at:
                entry.scheduled = entry.expires_at  # touched since: look again then
                heapq.heapreplace(heap, entry)
            else:
                heapq.heappop(heap)
                self.stale -= 1  # _forget will count it, but it has left the heap already
                del self[entry.id]

    def user_entries(self, user_id: str) -> list[_Entry]:
        ids = self.by_user.get(user_id)
        keys: Iterable[str] = () if ids is None else (ids,) if isinstance(ids, str) else list(ids)
        return [Cache.__getitem__(self, key) for key in keys]

    def _forget(self, entry: _Entry) -> None:
        entry.removed = True
        self.stale += 1
        if self.stale > len(self.heap) // 2 + 64:  # in place: expire() may be iterating
            self.heap[:] = [e for e in self.heap if not e.removed]
            heapq.heapify(self.heap)
            self.stale = 0
        if entry.user_id is not None:
            self._unindex(entry)

    def _index(self, entry: _Entry) -> None:
        user_id, ids = entry.user_id or "", self.by_user.get(entry.user_id or "")
        if ids is None:
            self.by_user[user_id] = entry.id  # most users have one session: no dict for them
        elif isinstance(ids, str):
            self.by_user[user_id] = {ids: None, entry.id: None}
        else:
            ids[entry.id] = None

    def _unindex(self, entry: _Entry) -> None:
        user_id = entry.user_id or ""
        ids = self.by_user.get(user_id)
        if isinstance(ids, str):
            if ids == entry.id:
                del self.by_user[user_id]
        elif ids is not None:
            ids.pop(entry.id, None)
            if len(ids) == 1:
                self.by_user[user_id] = next(iter(ids))
            elif not ids:
                del self.by_user[user_id]


class MemoryStore(AsyncFromSync):
    """Sessions in this process's memory: the default store.

    Fast and dependency-free, but each process has its own sessions: with several
    workers or hosts use :class:`~session_middleware.RedisStore`.

    :param maxsize: the most sessions kept; past it the least recently used is evicted
        (recency counts a session's requests once per second, see ``bumps_recency``).
    :param clock: the current time in epoch seconds; tests pass a fake clock.
    """

    def __init__(self, maxsize: int = 100_000, *, clock: Clock = time.time) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.clock = clock
        self._sessions = _Sessions(maxsize)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._sessions.expire(self.clock())
            return len(self._sessions)

    def __repr__(self) -> str:
        return f"MemoryStore(maxsize={self._sessions.maxsize})"

    # -- sync ------------------------------------------------------------------------

    def create(
        self,
        record: SessionRecord,
        *,
        replaces: str | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        sessions = self._sessions
        with self._lock:
            now = self.clock()
            sessions.expire(now)
            if replaces is not None:
                if sessions.peek(replaces) is None:
                    return False
                del sessions[replaces]
            if max_per_user is not None and record.user is not None:
                by_recency = sorted(sessions.user_entries(record.user_id or ""), key=lambda e: e.last_request)
                for old in by_recency[: max(0, len(by_recency) - max_per_user + 1)]:
                    del sessions[old.id]
            entry = _Entry(record)
            if now < entry.expires_at:
                sessions[record.id] = entry
            elif sessions.peek(record.id) is not None:
                del sessions[record.id]  # overwritten by a record that is already gone
            return True

    def load_and_touch(self, session_id: str, *, user_id: str | None = None) -> SessionRecord | None:
        sessions = self._sessions
        with self._lock:
            now = self.clock()
            sessions.expire(now)
            entry = sessions.peek(session_id)
            if entry is None or (user_id is not None and entry.user_id != user_id):
                return None
            last = entry.last_request
            if bumps_recency(last, now):
                sessions.use(session_id)
            if now > last:  # never moves back
                entry.last_request = now
            return entry.record()

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        sessions = self._sessions
        with self._lock:
            now = self.clock()
            sessions.expire(now)
            entry = sessions.peek(session_id)
            if entry is None:
                return False
            if bumps_recency(entry.last_request, now):  # not when this second's load just did
                sessions.use(session_id)
            entry.data = _compact(changes.apply_in_place(_expand(entry.data)))
            return True

    def delete(self, session_id: str) -> bool:
        sessions = self._sessions
        with self._lock:
            sessions.expire(self.clock())
            if sessions.peek(session_id) is None:
                return False
            del sessions[session_id]
            return True

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        with self._lock:
            entries = sorted(self._user_entries(user_id), key=lambda e: e.opened)
            return [e.record() for e in entries]

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        with self._lock:
            matches = [e for e in self._user_entries(user_id) if (e.address, e.client) == (address, client)]
            found = max(matches, key=lambda e: e.last_request, default=None)
            return None if found is None else found.record()

    def close_by_user(
        self,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        keep: str | None = None,
    ) -> int:
        with self._lock:
            doomed = [
                e.id
                for e in self._user_entries(user_id)
                if e.id != keep and (address is None or e.address == address) and (client is None or e.client == client)
            ]
            for session_id in doomed:
                del self._sessions[session_id]
            return len(doomed)

    def close(self) -> None:
        """Nothing to release; present for the Store protocol."""

    def _user_entries(self, user_id: str) -> list[_Entry]:
        self._sessions.expire(self.clock())
        return self._sessions.user_entries(user_id)
