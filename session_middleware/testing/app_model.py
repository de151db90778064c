"""The lifecycle an app wrapped in the middleware must follow, as a reference model.

It replays what each request does to the server's sessions (in a :class:`StoreModel`)
and says what the response must do to the session cookie. The rules are those of docs/lifecycle.md:
nothing is stored for a session that stays empty, a login or regenerate issues a new id
and retires the old one, logout closes the session and clears the cookie, a stale cookie
is cleared, nothing is saved on a 5xx, concurrent requests merge per key, and a session
closed during a request is never written back (nor is the cookie touched for it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ..records import DataChanges, SessionRecord, encode_value
from ..stores.base import Clock
from .store_model import StoreModel

__all__ = ["AppModel", "CookieEffect", "Visit", "canonical"]

#: What a response does to the session cookie.
CookieEffect = Literal["none", "set", "clear"]


def canonical(value: Any) -> str:
    """A JSON text equal for equal JSON values only (``1``, ``1.0`` and ``true`` differ)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, allow_nan=False)


@dataclass(slots=True)
class Visit:
    """One request between loading its session and committing it: the model of the
    ``Session`` object the app works on."""

    origin: tuple[str, str]
    #: The session the request loaded (touched), or None.
    loaded: SessionRecord | None
    #: The request's cookie named no live session: the response clears it.
    stale: bool
    record: SessionRecord | None = None
    user: dict[str, Any] | None = None
    values: dict[str, Any] = field(default_factory=dict)
    closed_id: str | None = None
    regenerate: bool = False
    #: A login happened: the stored session starts afresh (new times, this device).
    logged_in: bool = False
    cleared: bool = False
    status: int = 200

    def __post_init__(self) -> None:
        self.record = self.loaded
        if self.loaded is not None:
            self.user = None if self.loaded.user is None else dict(self.loaded.user)
            self.values = self.loaded.decoded_data()

    @property
    def is_new(self) -> bool:
        return self.record is None

    def state(self) -> dict[str, Any]:
        """What the probe routes answer for this request."""
        return {"user": self.user, "data": self.values, "is_new": self.is_new}

    # -- what the app does (the probe actions) ---------------------------------------------

    def act(self, action: str, payload: Mapping[str, Any]) -> None:
        if action in ("write", "fail"):
            if payload.get("clear"):
                self.values, self.cleared = {}, True
            self.values.update(payload.get("set", {}))
            for key in payload.get("delete", ()):
                self.values.pop(key, None)
            self.status = 500 if action == "fail" else 200
        elif action == "append":
            key, item = payload["key"], payload["item"]
            current = self.values.get(key)
            self.values[key] = [*current, item] if isinstance(current, list) else [item]
        elif action == "login":
            self.user = dict(payload["user"])
            self.logged_in = True
            self.regenerate = self.record is not None
        elif action == "logout":
            if self.record is not None:
                self.closed_id = self.record.id
            self.record, self.user, self.values = None, None, {}
            self.regenerate = self.cleared = self.logged_in = False
        elif action == "regenerate":
            self.regenerate = self.record is not None
        elif action != "state":
            raise ValueError(f"unknown probe action {action!r}")

    def encoded(self) -> dict[str, str]:
        return {key: encode_value(key, value) for key, value in self.values.items()}

    def changes(self) -> DataChanges:
        original = {} if self.record is None else self.record.data
        encoded = self.encoded()
        if self.cleared:
            return DataChanges(encoded, clear=True)
        updated = {k: v for k, v in encoded.items() if original.get(k) != v}
        return DataChanges(updated, frozenset(original.keys() - encoded.keys()))

    def emptied(self) -> bool:
        """An anonymous session left without data: it is forgotten."""
        record = self.record
        return record is not None and not self.values and self.user is None and (self.cleared or bool(record.data))


class AppModel:
    """The server side of the lifecycle: sessions, their owners, and every request's effect.

    :param max_sessions_per_user: the middleware's option of that name.
    """

    #: The id used for a new session whose response set no cookie (it is never stored).
    UNSENT = "(no id was sent)"

    def __init__(
        self,
        clock: Clock,
        *,
        idle_timeout: float,
        absolute_timeout: float,
        max_sessions_per_user: int | None,
        touch_interval: float = 0.0,
    ) -> None:
        self.clock = clock
        #: A request refreshes ``last_request`` only when the stored one is older than this.
        self.touch_interval = touch_interval
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self.cap = max_sessions_per_user
        self.store = StoreModel(clock)
        #: Every id ever stored, with its user's id (None for anonymous sessions).
        self.owner: dict[str, str | None] = {}

    def ids_of(self, user_id: str) -> list[str]:
        """Ids this user ever had, live or not, oldest first."""
        return [sid for sid, owner in self.owner.items() if owner == user_id]

    # -- a request through the middleware ---------------------------------------------------

    def begin(self, session_id: str | None, *, stale: bool, origin: tuple[str, str]) -> Visit:
        """Load the session a verified cookie names (``session_id``), touching it.

        :param stale: the request carried a session cookie that does not verify.
        """
        if session_id is None:
            return Visit(origin, None, stale)
        record = self.store.load_and_touch(session_id, touch_interval=self.touch_interval)
        return Visit(origin, record, record is None)

    def commit(self, visit: Visit, new_id: str | None) -> CookieEffect:
        """Save what the request changed; return what the response must do to the cookie.

        :param new_id: the id of the cookie the real response set, if it set one: ids are
            random, so the model learns them from the app.
        """
        if visit.status >= 500:
            return "none"
        effect: CookieEffect = "clear" if visit.stale else "none"
        if visit.closed_id is not None:
            self.store.delete(visit.closed_id)
            effect = "clear"
        record = visit.record
        if record is None:
            if visit.values or visit.user is not None:
                self._create(self._new_record(visit, new_id), None)
                effect = "set"
        elif visit.regenerate and not visit.emptied():
            if self._create(self._regenerated(visit, record, new_id), record.id):
                effect = "set"
        elif visit.emptied():
            if self.store.delete(record.id):
                effect = "clear"
        else:
            changes = visit.changes()
            if changes:
                self.store.save_changes(record.id, changes)
        return effect

    def _create(self, record: SessionRecord, replaces: str | None) -> bool:
        cap = self.cap if record.user is not None else None
        if record.id == self.UNSENT and replaces is None:
            return False  # the app stored something it gave no cookie for: the machine fails on that
        created = self.store.create(record, replaces=replaces, max_per_user=cap)
        if created:
            self.owner[record.id] = record.user_id
        return created

    def _new_record(self, visit: Visit, new_id: str | None) -> SessionRecord:
        now = self.clock()
        return SessionRecord(
            id=new_id or self.UNSENT,
            opened=now,
            last_request=now,
            idle_timeout=self.idle_timeout,
            absolute_expiry=now + self.absolute_timeout,
            address=visit.origin[0],
            client=visit.origin[1],
            user=visit.user,
            data=visit.encoded(),
        )

    def _regenerated(self, visit: Visit, record: SessionRecord, new_id: str | None) -> SessionRecord:
        if visit.logged_in:
            return self._new_record(visit, new_id)  # a login: a new session on this device
        return replace(record, id=new_id or self.UNSENT, user=visit.user, data=visit.encoded())

    # -- the REST API -----------------------------------------------------------------------

    def api_get(self, user_id: str, session_id: str) -> SessionRecord | None:
        return self.store.load_and_touch(session_id, user_id=user_id, touch_interval=self.touch_interval)

    def api_write(self, user_id: str, session_id: str, data: Mapping[str, Any]) -> bool:
        """Replace the data; False (404) if the session is not the user's live one."""
        if self.store.load_and_touch(session_id, user_id=user_id) is None:
            return False
        encoded = {key: encode_value(key, value) for key, value in data.items()}
        return self.store.save_changes(session_id, DataChanges(encoded, clear=True))

    def api_close(self, user_id: str, session_id: str) -> None:
        if self.store.load_and_touch(session_id, user_id=user_id) is not None:
            self.store.delete(session_id)

    def api_close_matching(self, user_id: str, address: str | None, client: str | None) -> None:
        self.store.close_by_user(user_id, address=address, client=client)
