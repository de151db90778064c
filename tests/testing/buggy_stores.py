"""A small, correct dictionary store and deliberately broken variants of it.

The kit's machines must tell each broken variant from the correct one. The variants
live here, not on top of the real stores, so they keep their one bug whatever the real
stores' internals become.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from session_middleware.records import DataChanges, SessionRecord
from session_middleware.stores.base import AsyncFromSync


class DictStore(AsyncFromSync):
    """Records by id plus a per-user index, expired lazily at the start of each operation."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.records: dict[str, SessionRecord] = {}
        self.by_user: dict[str, set[str]] = {}

    def purge(self) -> None:
        now = self.clock()
        for sid in [sid for sid, r in self.records.items() if not r.is_live(now)]:
            self.drop(sid)

    def drop(self, sid: str) -> None:
        record = self.records.pop(sid)
        if record.user_id is not None:
            self.by_user[record.user_id].discard(sid)

    def put(self, record: SessionRecord) -> None:
        self.records[record.id] = record
        if record.user_id is not None:
            self.by_user.setdefault(record.user_id, set()).add(record.id)

    def user_records(self, user_id: str) -> list[SessionRecord]:
        self.purge()
        return [self.records[sid] for sid in self.by_user.get(user_id, ())]

    def create(self, record: SessionRecord, *, replaces: str | None = None, max_per_user: int | None = None) -> bool:
        self.purge()
        if replaces is not None:
            if replaces not in self.records:
                return False
            self.drop(replaces)
        if max_per_user is not None and record.user_id is not None:
            mine = sorted(self.user_records(record.user_id), key=lambda r: r.last_request)
            for old in mine[: max(0, len(mine) - max_per_user + 1)]:
                self.drop(old.id)
        self.put(record)
        return True

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        self.purge()
        record = self.records.get(session_id)
        if record is None or (user_id is not None and record.user_id != user_id):
            return None
        if self.clock() - record.last_request < touch_interval:
            return record
        record = self.records[session_id] = record.touched(self.clock())
        return record

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        self.purge()
        record = self.records.get(session_id)
        if record is None:
            return False
        self.records[session_id] = replace(record, data=changes.apply(record.data))
        return True

    def delete(self, session_id: str) -> bool:
        self.purge()
        if session_id not in self.records:
            return False
        self.drop(session_id)
        return True

    def list_by_user(self, user_id: str) -> list[SessionRecord]:
        return sorted(self.user_records(user_id), key=lambda r: r.opened)

    def find_by_client(self, user_id: str, address: str, client: str) -> SessionRecord | None:
        matches = [r for r in self.user_records(user_id) if (r.address, r.client) == (address, client)]
        return max(matches, key=lambda r: r.last_request, default=None)

    def close_by_user(
        self, user_id: str, *, address: str | None = None, client: str | None = None, keep: str | None = None
    ) -> int:
        doomed = [
            r.id
            for r in self.user_records(user_id)
            if r.id != keep and address in (None, r.address) and client in (None, r.client)
        ]
        for sid in doomed:
            self.drop(sid)
        return len(doomed)

    def ping(self) -> None:
        pass

    def close(self) -> None:
        pass


class IndexKeepsExpired(DictStore):
    """Lists a user's sessions from the index without reclaiming expired ones first."""

    def user_records(self, user_id: str) -> list[SessionRecord]:
        return [self.records[sid] for sid in self.by_user.get(user_id, ())]


class TouchDoesNotSlide(DictStore):
    """Loads without recording the request: the idle expiry never moves."""

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        self.purge()
        record = self.records.get(session_id)
        if record is None or (user_id is not None and record.user_id != user_id):
            return None
        return record


class TouchIgnoresInterval(DictStore):
    """Records every load, even one within ``touch_interval`` of the last recorded request."""

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        return super().load_and_touch(session_id, user_id=user_id)


class SaveFromStaleRead(DictStore):
    """Applies a save to the data as it was loaded, dropping keys another request wrote since."""

    def __init__(self, *, clock: Callable[[], float]) -> None:
        super().__init__(clock=clock)
        self.loaded: dict[str, SessionRecord] = {}

    def load_and_touch(
        self, session_id: str, *, user_id: str | None = None, touch_interval: float = 0.0
    ) -> SessionRecord | None:
        record = super().load_and_touch(session_id, user_id=user_id, touch_interval=touch_interval)
        if record is not None:
            self.loaded[session_id] = record
        return record

    def save_changes(self, session_id: str, changes: DataChanges) -> bool:
        self.purge()
        current = self.records.get(session_id)
        if current is None:
            return False
        base = self.loaded.get(session_id, current)
        self.records[session_id] = replace(current, data=changes.apply(base.data))
        return True


class DeleteLeavesLoadable(DictStore):
    """Closes a session in the user index only: it leaves the lists but still loads."""

    def delete(self, session_id: str) -> bool:
        self.purge()
        record = self.records.get(session_id)
        if record is None:
            return False
        if record.user_id is not None:
            self.by_user[record.user_id].discard(session_id)
        return True


BUGGY_STORES = {
    "index keeps expired sessions": IndexKeepsExpired,
    "touch does not slide the expiry": TouchDoesNotSlide,
    "touch ignores the touch interval": TouchIgnoresInterval,
    "save drops a concurrent key": SaveFromStaleRead,
    "revoke leaves the session loadable": DeleteLeavesLoadable,
}
