"""The in-process session store, on cachetools' TLRUCache."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

from cachetools import Cache, TLRUCache

from ..records import DataChanges, SessionRecord
from .base import Clock

# Theory of operation
# -------------------
# Records live in a TLRUCache whose time-to-use is the record's own ``expires_at``
# (the earlier of its idle and absolute expiry), so every touch re-computes it and the
# cache forgets a session exactly when the lifecycle says it is gone. When full, the
# cache evicts the least recently used session.
#
# The per-user index (user id -> ordered set of session ids) must follow every way a
# record leaves the cache, and cachetools reports them through different hooks:
#   - explicit ``del``/``pop`` and size eviction (``popitem``) go through ``__delitem__``,
#     which for TLRUCache deletes first and *then* raises KeyError for an expired item,
#     hence the ``finally``;
#   - expiry goes through ``expire()`` only, which deletes behind ``__delitem__``'s back;
#   - ``__setitem__`` with an already expired value deletes the old item privately, and
#     an overwrite may change the record's user, so the old value is unindexed first;
#   - ``clear()`` bypasses both.
# Reads never expire anything, so every store operation starts with ``expire()``: the
# index then holds exactly the live sessions. One lock serialises all of it, because
# cachetools is not thread-safe; nothing here blocks, so the async twins call the sync
# methods directly instead of going through a thread pool.


class _IndexedCache(TLRUCache[str, SessionRecord]):
    def __init__(self, maxsize: int, clock: Clock) -> None:
        super().__init__(maxsize, ttu=_time_to_use, timer=clock)
        self.by_user: dict[str, dict[str, None]] = {}

    def peek(self, key: str) -> SessionRecord:
        """The stored record without counting a use (callers ran ``expire()``)."""
        value: SessionRecord = Cache.__getitem__(self, key)
        return value

    def update_live(self, key: str, value: SessionRecord) -> None:
        """Overwrite a live record with a newer version of itself (same user, expiry not
        earlier): the index needs no change, so this skips ``__setitem__``'s upkeep."""
        TLRUCache.__setitem__(self, key, value)

    def __setitem__(self, key: str, value: SessionRecord) -> None:
        if Cache.__contains__(self, key):
            self._unindex(key, self.peek(key))
        super().__setitem__(key, value)
        if Cache.__contains__(self, key) and value.user is not None:
            self.by_user.setdefault(value.user_id or "", {})[key] = None

    def __delitem__(self, key: str) -> None:
        value = self.peek(key) if Cache.__contains__(self, key) else None
        try:
            super().__delitem__(key)
        finally:
            if value is not None:
                self._unindex(key, value)

    def expire(self, time: float | None = None) -> Any:
        items = super().expire(time)
        for key, value in items:
            self._unindex(key, value)
        return items

    def clear(self) -> None:
        super().clear()
        self.by_user.clear()

    def _unindex(self, key: str, value: SessionRecord) -> None:
        if value.user is None:
            return
        sessions = self.by_user.get(value.user_id or "")
        if sessions is not None:
            sessions.pop(key, None)
            if not sessions:
                del self.by_user[value.user_id or ""]


def _time_to_use(_key: str, value: SessionRecord, _now: float) -> float:
    return value.expires_at


def _copy(record: SessionRecord) -> SessionRecord:
    # Values are immutable JSON text, so copying the containers copies everything.
    # (The constructor, not dataclasses.replace: this runs on every request.)
    r = record
    user = None if r.user is None else dict(r.user)
    return SessionRecord(
        r.id, r.opened, r.last_request, r.idle_timeout, r.absolute_expiry, r.address, r.client, user, dict(r.data)
    )


class MemoryStore:
    """Sessions in this process's memory: the default store.

    Fast and dependency-free, but each process has its own sessions: with several
    workers or hosts use :class:`~session_middleware.RedisStore`.

    :param maxsize: the most sessions kept; past it the least recently used is evicted.
    :param clock: the current time in epoch seconds; tests pass a fake clock.
    """

    def __init__(self, maxsize: int = 100_000, *, clock: Clock = time.time) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.clock = clock
        self._cache = _IndexedCache(maxsize, clock)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            self._cache.expire()
            return len(self._cache)

    def __repr__(self) -> str:
        return f"MemoryStore(maxsize={self._cache.maxsize})"

    # -- sync ------------------------------------------------------------------------

    def create(
        self,
        record: SessionRecord,
        *,
        replaces: str | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        cache = self._cache
        with self._lock:
            cache.expire()
            if replaces is not None:
                if not Cache.__contains__(cache, replaces):
                    return False
                del cache[replaces]
            if max_per_user is not None and record.user is not None:
                by_recency = sorted(
                    (cache.peek(sid) for sid in cache.by_user.get(record.user_id or "", ())),
                    key=lambda r: r.last_request,
                )
                for old in by_recency[: max(0, len(by_recency) - max_per_user + 1)]:
                    del cache[old.id]
            cache[record.id] = _copy(record)
            return True

    def load_and_touch(self, session_id: str, *, user_id: str | None = None) -> SessionRecord | None:
        cache = self._cache
        # One reading of the clock for the whole operation (cachetools' timer freezes it).
        with self._lock, cache.timer as now:
            cache.expire(now)
            if not Cache.__contains__(cache, session_id):
                return None
            record = cache.peek(session_id)
            if user_id is not None and record.user_id != user_id:
                return None
            record = record.touched(now)
            cache.update_live(session_id, record)
            return _copy(record)

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        cache = self._cache
        with self._lock, cache.timer as now:
            cache.expire(now)
            if not Cache.__contains__(cache, session_id):
                return False
            record = cache.peek(session_id)
            cache.update_live(session_id, replace(record, data=changes.apply(record.data)))
            return True

    def delete(self, session_id: str) -> bool:
        cache = self._cache
        with self._lock:
            cache.expire()
            if not Cache.__contains__(cache, session_id):
                return False
            del cache[session_id]
            return True

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        with self._lock:
            return sorted(self._user_records(user_id), key=lambda r: r.opened)

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        with self._lock:
            matches = [r for r in self._user_records(user_id) if (r.address, r.client) == (address, client)]
            return max(matches, key=lambda r: r.last_request, default=None)

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
                r.id
                for r in self._user_records(user_id)
                if r.id != keep and (address is None or r.address == address) and (client is None or r.client == client)
            ]
            for session_id in doomed:
                del self._cache[session_id]
            return len(doomed)

    def close(self) -> None:
        """Nothing to release; present for the Store protocol."""

    def _user_records(self, user_id: str) -> list[SessionRecord]:
        cache = self._cache
        cache.expire()
        return [_copy(cache.peek(sid)) for sid in cache.by_user.get(user_id, ())]

    # -- async twins: nothing here blocks, so they call the sync methods ---------------

    async def acreate(
        self,
        record: SessionRecord,
        *,
        replaces: str | None = None,
        max_per_user: int | None = None,
    ) -> bool:
        return self.create(record, replaces=replaces, max_per_user=max_per_user)

    async def aload_and_touch(self, session_id: str, *, user_id: str | None = None) -> SessionRecord | None:
        return self.load_and_touch(session_id, user_id=user_id)

    async def asave_changes(self, session_id: str, changes: DataChanges) -> bool:
        return self.save_changes(session_id, changes)

    async def adelete(self, session_id: str) -> bool:
        return self.delete(session_id)

    async def alist_by_user(self, user_id: str) -> list[SessionRecord]:
        return self.list_by_user(user_id)

    async def afind_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        return self.find_by_client(user_id, address, client)

    async def aclose_by_user(
        self,
        user_id: str,
        *,
        address: str | None = None,
        client: str | None = None,
        keep: str | None = None,
    ) -> int:
        return self.close_by_user(user_id, address=address, client=client, keep=keep)

    async def aclose(self) -> None:
        """Nothing to release; present for the Store protocol."""
