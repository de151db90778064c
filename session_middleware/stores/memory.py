"""The in-process session store: cachetools' LRUCache plus per-session expiry."""

from __future__ import annotations

import copy
import heapq
import sys
import threading
import time
from collections.abc import Iterable, Mapping
from itertools import chain
from typing import Any

from cachetools import Cache

from ..records import DataChanges, SessionRecord
from .base import AsyncFromSync, Clock

# Theory of operation
# -------------------
# Sessions live in a cachetools ``Cache`` (a bounded mapping that evicts through
# ``popitem`` when full) as private ``_Entry`` objects. An entry is built from a record
# on the way in and every record handed out is built fresh from an entry, so a caller
# never shares a container with the store. A request's touch updates its entry in place.
#
# Two orders run through the entries as intrusive doubly linked lists (links in the
# entries themselves, not hash tables beside them), so an entry leaves both in O(1) and
# nothing outlives it: memory follows the live sessions, at most ``maxsize`` of them.
#
# - Eviction order (``older``/``newer``): ``popitem`` evicts the least recently used. A
#   request moves its session to the most recently used end only when it records the
#   request (its ``touch_interval`` has passed) and is the session's first such request
#   in a new second (``bumps_recency``); a save, which records nothing, does not move it.
#   For sessions, which idle for minutes or hours, order within a second (or a touch
#   interval) decides nothing (memcached bumps an item at most once a minute).
# - Expiry (``prev``/``next``): every entry sits in the bucket of the second of a lower
#   bound of its expiry (the expiry when it was last scheduled: a touch only moves the
#   real one later), and a heap orders the buckets' keys. Each operation first reclaims
#   from the buckets whose second has passed, at most ``RECLAIM_BATCH`` entries per
#   call: one that really is expired is deleted, one touched since moves to the bucket of
#   its real expiry. So a mass expiry is reclaimed over many calls, none of which stalls,
#   and an active session costs one bucket move per idle period rather than one per
#   request. Until an expired entry is reclaimed, every read checks the expiry itself,
#   treats the entry as missing and deletes it. A full store reclaims what has expired,
#   this second's bucket included, before it evicts anything live. An emptied bucket's
#   key stays in the heap until it surfaces; the heap is rebuilt when such keys
#   outnumber the buckets.
#
# The per-user index (user id -> the id of the user's only session, or an ordered dict
# of ids) follows every way an entry leaves: ``del``, ``pop``, size eviction and expiry
# all go through ``__delitem__``, an overwrite through ``__setitem__``. Readers of the
# index skip (and delete) entries that expired and were not reclaimed yet. One lock
# serialises all of it, because cachetools is not thread-safe; nothing here blocks, so
# the async twins call the sync methods directly instead of going through a thread pool.
#
# Memory: a user ``{id, name}`` is kept as its name alone beside the user id; one or two
# data keys as a flat tuple; three or more short values joined into one string beside a
# tuple of their keys, shared by every session with the same keys; the client string is
# interned (sessions share User-Agents). A signed-in session with four data keys, its own
# address and a browser User-Agent takes about 740 bytes (docs/benchmarks.md).

#: Seconds: requests of a session within one such slot count as one use for eviction.
RECENCY_GRANULARITY = 1.0
#: Seconds covered by one expiry bucket: an expired session is reclaimed at most this late.
EXPIRY_GRANULARITY = 1.0
#: The most entries one call reclaims or reschedules, so no call stalls on a mass expiry.
RECLAIM_BATCH = 128

# A short mapping's values are joined with a character JSON text never contains raw.
_SEP = "\x00"
_JOIN_LIMIT = 512  # characters of joined values; longer ones are kept as they are
_KEYSETS_LIMIT = 4096  # distinct key tuples shared between sessions

#: A stored data mapping: () | (key, value) | (key, value, key, value) | (keys, joined values) | a dict.
Compact = tuple[Any, ...] | dict[str, Any]


def bumps_recency(previous: float, now: float, granularity: float = RECENCY_GRANULARITY) -> bool:
    """Whether a request at ``now``, after the session's last one at ``previous``, moves
    the session in the eviction order (always, with a granularity of 0)."""
    return granularity <= 0 or previous // granularity != now // granularity


def _expand(stored: Compact) -> dict[str, Any]:
    if isinstance(stored, dict):
        return stored.copy()
    if not stored:
        return {}
    first = stored[0]
    if len(stored) == 4:
        return {first: stored[1], stored[2]: stored[3]}
    if type(first) is tuple:  # (keys, joined values)
        return dict(zip(first, stored[1].split(_SEP), strict=True))
    return {first: stored[1]}


def _intern(text: str) -> str:
    return sys.intern(text) if type(text) is str else text


class _Node:
    """What the intrusive lists link: entries, and the sentinels that head the lists."""

    __slots__ = ("older", "newer", "prev", "next")

    older: _Node
    newer: _Node
    prev: _Node | None
    next: _Node | None


class _Bucket(_Node):
    """The head of the expiry list of one second's bucket (``prev``/``next`` links)."""

    __slots__ = ("key",)

    def __init__(self, key: float) -> None:
        self.key = key
        self.prev = self.next = self


class _Entry(_Node):
    """One stored session, compact and private to the store.

    ``older``/``newer`` link it in the eviction order, ``prev``/``next`` in its expiry
    bucket: links inside the entries rather than hash tables beside them, so leaving
    either is O(1) and costs no memory that outlives the entry.
    """

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
    )

    def __init__(self, record: SessionRecord, data: Compact) -> None:
        self.id = record.id
        self.opened = record.opened
        self.last_request = record.last_request
        self.idle_timeout = record.idle_timeout
        self.absolute_expiry = record.absolute_expiry
        self.address = record.address
        self.client = _intern(record.client)
        user = record.user
        self.user_id: str | None = None if user is None else record.user_id
        #: None (no user, or ``{id}`` alone), the name of an ``{id, name}`` user, all pairs
        #: as a flat tuple, or a dict of its own when a value nests (copied on every load).
        self.user: str | tuple[Any, ...] | dict[str, Any] | None = None if user is None else _compact_user(user)
        self.data = data
        self.prev = self.next = None

    @property
    def expires_at(self) -> float:
        return min(self.last_request + self.idle_timeout, self.absolute_expiry)

    def user_mapping(self) -> dict[str, Any] | None:
        user, user_id = self.user, self.user_id
        if user_id is None:
            return None
        if user is None:
            return {"id": user_id}
        if type(user) is str:
            return {"id": user_id, "name": user}
        if type(user) is dict:  # nested values (a list of roles): the caller gets copies of them too
            return copy.deepcopy(user)
        pairs = iter(user)
        return dict(zip(pairs, pairs, strict=True))

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
            self.user_mapping(),
            _expand(self.data),
        )


_SCALARS = (str, int, float, bool, type(None))


def _compact_user(user: Mapping[str, Any]) -> str | tuple[Any, ...] | dict[str, Any] | None:
    if len(user) <= 2:
        keys = tuple(user)
        if keys == ("id",):
            return None
        name = user.get("name")
        if keys == ("id", "name") and type(name) is str:
            return name
    if all(type(value) in _SCALARS for value in user.values()):
        return tuple(item for pair in user.items() for item in pair)
    return copy.deepcopy(dict(user))


class _Sessions(Cache[str, _Entry]):
    """cachetools' Cache (bounded, evicting through ``popitem``) with the least recently
    used order, the expiry buckets and the per-user index kept in step."""

    def __init__(self, maxsize: int) -> None:
        super().__init__(maxsize)
        self.root = _Node()  # of the eviction order: root.newer is the least recently used
        self.root.older = self.root.newer = self.root
        self.by_user: dict[str, str | dict[str, None]] = {}
        self.buckets: dict[float, _Bucket] = {}
        self.bucket_keys: list[float] = []  # a heap of bucket keys; an emptied bucket's may linger
        self.keysets: dict[tuple[str, ...], tuple[str, ...]] = {}

    def peek(self, key: str) -> _Entry | None:
        """The entry, without counting a use, expired or not."""
        try:
            entry: _Entry = Cache.__getitem__(self, key)
        except KeyError:
            return None
        return entry

    def live(self, key: str, now: float) -> _Entry | None:
        """The entry if it is live; an expired one is deleted on the way."""
        try:
            entry: _Entry = Cache.__getitem__(self, key)
        except KeyError:
            return None
        if now < min(entry.last_request + entry.idle_timeout, entry.absolute_expiry):
            return entry
        del self[key]
        return None

    def use(self, entry: _Entry) -> None:
        """Make ``entry`` the most recently used."""
        root = self.root
        newest = root.older
        if newest is entry:
            return
        entry.older.newer, entry.newer.older = entry.newer, entry.older
        entry.older, entry.newer = newest, root
        newest.newer = root.older = entry

    def compact(self, mapping: Mapping[str, Any]) -> Compact:
        """A data mapping in its stored form (see ``Compact``)."""
        size = len(mapping)
        if size <= 2:
            return tuple(chain.from_iterable(mapping.items()))
        try:
            joined = _SEP.join(mapping.values())
        except TypeError:  # not all text: kept as it is
            return dict(mapping)
        if len(joined) > _JOIN_LIMIT or joined.count(_SEP) != size - 1:
            return dict(mapping)
        keys = tuple(mapping)
        shared = self.keysets.get(keys)
        if shared is None:
            shared = keys
            if len(self.keysets) < _KEYSETS_LIMIT:
                self.keysets[keys] = keys
        return (shared, joined)

    def __setitem__(self, key: str, value: _Entry) -> None:
        old = self.peek(key)
        if old is not None:
            self._forget(old)
        super().__setitem__(key, value)  # may evict, through popitem and __delitem__
        root = self.root
        newest = root.older
        value.older, value.newer = newest, root
        newest.newer = root.older = value
        if value.user_id is not None:
            self._index(value)
        self._schedule(value)

    def __delitem__(self, key: str) -> None:
        entry: _Entry = Cache.__getitem__(self, key)
        super().__delitem__(key)
        self._forget(entry)

    def popitem(self) -> tuple[str, _Entry]:
        """Evict the least recently used entry (``Cache.__setitem__`` calls it when full)."""
        victim = self.root.newer
        if not isinstance(victim, _Entry):
            raise KeyError("the store is empty")
        del self[victim.id]
        return victim.id, victim

    def clear(self) -> None:
        super().clear()
        self.root.older = self.root.newer = self.root
        self.by_user.clear()
        self.buckets.clear()
        self.bucket_keys.clear()

    def reclaim(self, now: float, budget: int = RECLAIM_BATCH, *, current: bool = False) -> None:
        """Delete expired entries from the buckets whose second has passed (with
        ``current``, from this second's too), looking at ``budget`` entries at most."""
        keys, buckets = self.bucket_keys, self.buckets
        horizon = now // EXPIRY_GRANULARITY  # the key of the current second's bucket
        while keys and budget > 0 and (keys[0] < horizon or (current and keys[0] == horizon)):
            key = keys[0]
            bucket = buckets.get(key)
            if bucket is None:  # emptied since it was scheduled
                heapq.heappop(keys)
                continue
            node = bucket.next
            while isinstance(node, _Entry) and budget > 0:
                budget -= 1
                entry, node = node, node.next
                expires = entry.expires_at
                if now >= expires:
                    del self[entry.id]  # empties the bucket's list of it (and drops the bucket)
                elif key < horizon or expires // EXPIRY_GRANULARITY > key:
                    self._unschedule(entry)  # touched since: look again then
                    self._schedule(entry)
            if buckets.get(key) is bucket:
                return  # out of budget, or this second's live entries are left

    def user_entries(self, user_id: str, now: float) -> list[_Entry]:
        """The user's live entries; expired ones found on the way are deleted."""
        ids = self.by_user.get(user_id)
        keys: Iterable[str] = () if ids is None else (ids,) if isinstance(ids, str) else list(ids)
        return [entry for key in keys if (entry := self.live(key, now)) is not None]

    def _schedule(self, entry: _Entry) -> None:
        key = entry.expires_at // EXPIRY_GRANULARITY
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = _Bucket(key)
            heapq.heappush(self.bucket_keys, key)
        last = bucket.prev
        assert last is not None
        entry.prev, entry.next = last, bucket
        last.next = bucket.prev = entry

    def _unschedule(self, entry: _Entry) -> None:
        before, after = entry.prev, entry.next
        if before is None or after is None:
            return
        before.next, after.prev = after, before
        entry.prev = entry.next = None
        if before is after and isinstance(before, _Bucket):  # the bucket is empty now
            del self.buckets[before.key]  # its key stays in the heap until it surfaces
            if len(self.bucket_keys) > 2 * len(self.buckets) + 64:
                self.bucket_keys[:] = sorted(self.buckets)  # a sorted list is a heap

    def _forget(self, entry: _Entry) -> None:
        entry.older.newer, entry.newer.older = entry.newer, entry.older
        del entry.older, entry.newer  # no cycle keeps a departed entry alive
        self._unschedule(entry)
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
        (a session is used when it is created and when a request is recorded on it, at
        most once per second, see ``bumps_recency``). Expired sessions are reclaimed first.
    :param clock: the current time in epoch seconds; tests pass a fake clock.
    """

    def __init__(self, maxsize: int = 100_000, *, clock: Clock = time.time) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.clock = clock
        self._sessions = _Sessions(maxsize)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Sessions held: the live ones, plus expired ones not reclaimed yet (those of the
        last second, or more just after a mass expiry)."""
        with self._lock:
            self._sessions.reclaim(self.clock())
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
            sessions.reclaim(now)
            if replaces is not None:
                if sessions.live(replaces, now) is None:
                    return False
                del sessions[replaces]
            if max_per_user is not None and record.user is not None:
                mine = sorted(sessions.user_entries(record.user_id or "", now), key=lambda e: e.last_request)
                for old in mine[: max(0, len(mine) - max_per_user + 1)]:
                    del sessions[old.id]
            if not now < record.expires_at:
                if sessions.peek(record.id) is not None:
                    del sessions[record.id]  # overwritten by a record that is already gone
                return True
            if len(sessions) >= sessions.maxsize and sessions.peek(record.id) is None:
                sessions.reclaim(now, current=True)  # room from the expired before evicting
            sessions[record.id] = _Entry(record, sessions.compact(record.data))
            return True

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        sessions = self._sessions
        with self._lock:
            now = self.clock()
            sessions.reclaim(now)
            entry = sessions.live(session_id, now)
            if entry is None or (user_id is not None and entry.user_id != user_id):
                return None
            last = entry.last_request
            if now - last >= touch_interval:  # due: record the request
                if bumps_recency(last, now):
                    sessions.use(entry)
                if now > last:  # never moves back
                    entry.last_request = now
            return entry.record()

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        sessions = self._sessions
        with self._lock:
            now = self.clock()
            sessions.reclaim(now)
            entry = sessions.live(session_id, now)
            if entry is None:
                return False
            entry.data = sessions.compact(changes.apply_in_place(_expand(entry.data)))
            return True

    def delete(self, session_id: str) -> bool:
        sessions = self._sessions
        with self._lock:
            now = self.clock()
            sessions.reclaim(now)
            if sessions.live(session_id, now) is None:
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

    def ping(self) -> None:
        """Nothing to check: the sessions are in this process's memory."""

    def close(self) -> None:
        """Nothing to release; present for the Store protocol."""

    def _user_entries(self, user_id: str) -> list[_Entry]:
        now = self.clock()
        self._sessions.reclaim(now)
        return self._sessions.user_entries(user_id, now)
