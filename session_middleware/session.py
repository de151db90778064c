"""The ``Session`` object an application sees at ``scope["session"]`` / ``environ["session"]``."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

from .records import DataChanges, SessionRecord, decode_value, encode_value, new_session_id, validate_user

_MISSING: Any = object()
#: JSON values that cannot change in place (bool is an int subclass but listed for clarity).
_IMMUTABLE = frozenset({str, int, float, bool, type(None)})
#: What ``_changes`` returns for a request that changed nothing (never mutated).
_UNCHANGED = DataChanges()


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class Session(MutableMapping[str, Any]):
    """A mutable mapping over the session's JSON data, with its metadata.

    Changes are saved by the middleware when the response starts; nested mutation
    (``session["cart"].append(x)``) is found by comparing each accessed value's JSON
    with what was loaded. Values must be JSON: anything else raises ``TypeError``
    naming the key.
    """

    __slots__ = (
        "_record",
        "_values",
        "_live",
        "_scalars",
        "_texts",
        "_deleted",
        "_id",
        "_now",
        "_origin",
        "_user",
        "_closed_id",
        "_regenerate",
        "_cleared",
        "_dirty",
        "_logged_in",
    )

    def __init__(
        self,
        record: SessionRecord | None,
        *,
        now: float,
        origin: Callable[[], tuple[str, str]],
    ) -> None:
        self._record = record
        # Values stay in their stored JSON form until read, so a request that reads one
        # key of a large session pays for that key alone. ``_values`` maps each key to
        # its stored JSON text, or to a live value for the keys in ``_live`` (set in this
        # request, or a list or dict handed out, which may be mutated in place). A decoded
        # string, number, boolean or null cannot change in place: it is kept in
        # ``_scalars`` and its key stays unchanged, with no re-encoding at commit.
        self._values: dict[str, Any] = {} if record is None else dict(record.data)
        self._live: dict[str, None] = {}
        self._scalars: dict[str, Any] = {}
        #: The JSON of live values that cannot change in place, from __setitem__'s check.
        self._texts: dict[str, str] = {}
        #: A key was deleted (or cleared) in this request.
        self._deleted = False
        self._id = None if record is None else record.id
        self._now = now
        self._origin = origin
        self._user: Mapping[str, Any] | None = None if record is None else record.user
        #: The id of a session this request closed (logout), deleted at commit.
        self._closed_id: str | None = None
        #: The stored id must be replaced by a fresh one at commit (login, regenerate).
        self._regenerate = False
        self._cleared = False
        #: The data may differ from what was loaded: a key was set, deleted or cleared, or
        #: a list or dict was handed out (it can be mutated in place).
        self._dirty = False
        #: ``login()`` was called: the stored session starts afresh for that user.
        self._logged_in = False

    # -- mapping ---------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        value = self._values[key]
        if key in self._live:
            return value
        decoded = self._scalars.get(key, _MISSING)
        if decoded is not _MISSING:
            return decoded
        decoded = decode_value(value)
        if type(decoded) in _IMMUTABLE:
            self._scalars[key] = decoded
        else:
            self._values[key] = decoded
            self._live[key] = None
            self._dirty = True
        return decoded

    def __setitem__(self, key: str, value: Any) -> None:
        text = encode_value(key, value)  # fail here, naming the key, not at the end of the request
        self._values[key] = value
        self._live[key] = None
        self._scalars.pop(key, None)
        if type(value) in _IMMUTABLE:
            self._texts[key] = text  # final: the commit needs no second encoding
        else:
            self._texts.pop(key, None)
        self._dirty = True

    def __delitem__(self, key: str) -> None:
        del self._values[key]
        self._live.pop(key, None)
        self._scalars.pop(key, None)
        self._texts.pop(key, None)
        self._deleted = self._dirty = True

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def clear(self) -> None:
        """Drop every key (without decoding them first)."""
        self._values, self._live, self._scalars, self._texts = {}, {}, {}, {}
        self._cleared = True
        self._dirty = True

    def __repr__(self) -> str:
        # Neither the id nor the data: reprs end up in logs and tracebacks.
        return f"<Session user_id={self.user_id!r} keys={len(self._values)} new={self.is_new}>"

    # -- metadata --------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The session id (the REST API's handle; the cookie carries it signed)."""
        if self._id is None:
            self._id = new_session_id()
        return self._id

    @property
    def is_new(self) -> bool:
        """True until the session has been stored (it was not loaded from a cookie)."""
        return self._record is None

    @property
    def user(self) -> dict[str, Any] | None:
        """A deep copy: changing it changes neither this session nor the store."""
        return None if self._user is None else copy.deepcopy(dict(self._user))

    @property
    def user_id(self) -> str | None:
        return None if self._user is None else str(self._user["id"])

    @property
    def address(self) -> str:
        return self._record.address if self._record is not None else self._origin()[0]

    @property
    def client(self) -> str:
        return self._record.client if self._record is not None else self._origin()[1]

    @property
    def opened(self) -> datetime:
        return _utc(self._record.opened if self._record is not None else self._now)

    @property
    def last_request(self) -> datetime:
        return _utc(self._record.last_request if self._record is not None else self._now)

    # -- lifecycle -------------------------------------------------------------------

    def login(self, user: Mapping[str, Any]) -> None:
        """Bind the session to ``user`` (a mapping with a string ``id`` and optional
        ``name``) and give it a new id, so an id known before login is worthless after.

        A login is a new authentication: the session starts afresh for that user, with
        ``opened``, the absolute timeout, ``address`` and ``client`` taken from this
        request, even when the same user logs in again. The data is kept.

        :raises TypeError, ValueError: if ``user`` is not a valid user mapping.
        """
        self._user = validate_user(user)
        self._logged_in = True
        self.regenerate()

    def logout(self) -> None:
        """Close the session in the store and expire its cookie.

        The object stays usable as a new, empty, anonymous session: data written after
        ``logout()`` (a flash message, say) goes to a fresh session with a fresh id.
        """
        if self._record is not None:
            self._closed_id = self._record.id
        self._record = None
        self._values, self._live, self._scalars, self._texts = {}, {}, {}, {}
        self._user = None
        self._id = None
        self._regenerate = False
        self._cleared = False
        self._logged_in = False

    def regenerate(self) -> None:
        """Move the data to a new id; the old id stops working when the request ends."""
        self._id = None
        self._regenerate = self._record is not None

    # -- used by the middleware ------------------------------------------------------

    def _changes(self) -> DataChanges:
        """What this request changed in the data, per key."""
        if not self._dirty:
            return _UNCHANGED
        original = {} if self._record is None else self._record.data
        updated = {}
        for key in self._live:
            text = self._texts.get(key) or encode_value(key, self._values[key])
            if original.get(key) != text:
                updated[key] = text
        if self._cleared:
            return DataChanges(updated={k: self._encoded(k) for k in self._values}, clear=True)
        if not self._live and len(self._values) == len(original):
            return _UNCHANGED  # only loaded keys, all of them still there
        removed = frozenset(original.keys() - self._values.keys()) if self._deleted else frozenset()
        return DataChanges(updated=updated, removed=removed)

    def _encoded(self, key: str) -> str:
        value = self._values[key]
        if key not in self._live:
            return str(value)  # the stored JSON text itself
        return self._texts.get(key) or encode_value(key, value)

    def _data(self) -> dict[str, str]:
        """All current data as JSON text, for a record being created."""
        return {key: self._encoded(key) for key in self._values}
