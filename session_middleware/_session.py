"""The ``Session`` an application sees at ``scope["session"]`` / ``environ["session"]``.

A :class:`Session` is a ``dict`` of the session's JSON data, so everything an app does
with Starlette's ``request.session`` works (``json.dumps``, ``dict()``, ``copy()``,
``|=``), plus the session's metadata and ``login`` / ``logout`` / ``regenerate``. It
tracks what the request did; at the end of the request :meth:`Session.outcome` sums
that up in one immutable :class:`Outcome`, which the core turns into store operations
and cookie headers. The core never reads the session's private state.
"""

from __future__ import annotations

import copy
import enum
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, ClassVar, NamedTuple, Protocol

from .records import DataChanges, SessionRecord, decode_value, encode_value, new_session_id, validate_user

#: JSON values that cannot change in place: their text at ``__setitem__`` is final.
_SCALARS = frozenset({str, int, float, bool, type(None)})
_NO_DATA: Mapping[str, str] = MappingProxyType({})
_MISSING: Any = object()


class ValueCodec(Protocol):
    """How a session value becomes the JSON text a store keeps, and back."""

    def encode(self, key: str, value: Any) -> str:
        """JSON text of ``value``; :raises TypeError: naming ``key`` if it cannot be stored."""
        ...

    def decode(self, text: str) -> Any: ...


class JSONCodec:
    """Plain JSON (the default): any JSON value, nothing else."""

    def encode(self, key: str, value: Any) -> str:
        return encode_value(key, value)

    def decode(self, text: str) -> Any:
        return decode_value(text)


class Action(enum.Enum):
    """What the end of a request does with the session it holds."""

    #: Nothing stored changes.
    NONE = "none"
    #: A new session is stored (its first data, or a login on a new session).
    CREATE = "create"
    #: Per-key changes to the loaded session.
    SAVE = "save"
    #: The loaded session moves to a new id with the same times (``regenerate()``).
    REGENERATE = "regenerate"
    #: A new session for the user replaces the loaded one (``login()``).
    LOGIN = "login"
    #: An anonymous session left without data is deleted.
    FORGET = "forget"


class Outcome(NamedTuple):
    """What one request did to its session, in the terms the core decides on (a named
    tuple: immutable, and built on every request that touches its session)."""

    action: Action
    #: The loaded session's id (``None`` for a session that was not loaded).
    session_id: str | None = None
    #: The session ``logout()`` closed in this request: deleted at commit.
    closed: SessionRecord | None = None
    #: The id the stored session gets (CREATE, REGENERATE, LOGIN).
    new_id: str | None = None
    #: The session's user after the request.
    user: Mapping[str, Any] | None = None
    #: Every key's JSON text (CREATE, REGENERATE, LOGIN).
    data: Mapping[str, str] = _NO_DATA
    #: The per-key changes (SAVE).
    changes: DataChanges = DataChanges()
    #: The loaded record (REGENERATE keeps its times).
    record: SessionRecord | None = None

    @property
    def needs_commit(self) -> bool:
        """Whether anything must be written: the one answer both the adapters' shortcut and
        the commit derive from."""
        return self.action is not Action.NONE or self.closed is not None


#: The outcome of most requests: nothing to write (a constant, so it costs no allocation).
NOTHING = Outcome(Action.NONE)
_UNCHANGED = DataChanges()


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=UTC)


class Session(dict[str, Any]):
    """The session's data (a ``dict`` of JSON values) with its metadata.

    Changes are saved when the response starts, with no call from the app; nested
    mutation (``session["cart"].append(x)``) is found by comparing the JSON of the
    values the request could reach with what was loaded. Values must be JSON: anything
    else raises ``TypeError`` naming the key.

    ``accessed`` becomes true when the app reads or writes the data (the response then
    varies by cookie); ``modified`` when the data differs from what was loaded.
    """

    #: Encodes values for the store; a framework integration may use its own (Flask's tags).
    codec: ClassVar[ValueCodec] = JSONCodec()

    # Built on every request: slots make it cheaper to build and smaller.
    __slots__ = (
        "_pending",
        "_record",
        "_loaded",
        "_now",
        "_origin",
        "_id",
        "_user",
        "_written",
        "_handed",
        "_removed",
        "_cleared",
        "_accessed",
        "_closed",
        "_regenerate",
        "_logged_in",
    )

    def __init__(
        self,
        record: SessionRecord | None,
        now: float,
        origin: Callable[[], tuple[str, str]],
        data: Mapping[str, Any] | None = None,
    ) -> None:
        """``record`` is the loaded session (``None``: a new one, optionally starting
        with ``data``, say a session carried over from another library's cookie)."""
        # Values stay in their stored JSON form until read, so a request that reads one
        # key of a large session pays for that key alone: ``_pending`` holds the keys whose
        # value in the dict is still that JSON text. Every way to read a value decodes it
        # first; ``_materialize`` decodes them all for the views (items, values, copy...).
        # (Built on every request: one branch per case, the flags set in one statement.)
        if record is None:
            self._loaded = _NO_DATA
            self._pending: set[str] = set()
            self._id = self._user = None
        else:
            loaded = self._loaded = record.data
            if loaded:
                dict.__init__(self, loaded)
                self._pending = set(loaded)
            else:
                self._pending = set()
            self._id = record.id
            self._user = record.user
        self._record = record
        self._now = now
        self._origin = origin
        #: Keys set in this request, with their final JSON text when they cannot change in place.
        self._written: dict[str, str | None] = {}
        #: Keys whose decoded value can change in place (a list or dict the app was given).
        self._handed: dict[str, None] = {}
        self._removed = self._cleared = self._accessed = self._regenerate = self._logged_in = False
        self._closed: SessionRecord | None = None
        if data:
            self.update(data)
            self._accessed = False

    def _decoded(self, key: str) -> Any:
        """The value of ``key`` (which is present), decoding it on its first read."""
        value = dict.__getitem__(self, key)
        if key in self._pending:
            self._pending.discard(key)
            value = self.codec.decode(value)
            dict.__setitem__(self, key, value)
            if type(value) not in _SCALARS:
                self._handed[key] = None
        return value

    def _materialize(self) -> None:
        """Decode every value still in its stored form (before a view of all of them)."""
        for key in list(self._pending):
            self._decoded(key)

    # -- reading: every way in marks the session accessed -------------------------------

    def __getitem__(self, key: str) -> Any:
        self._accessed = True
        return self._decoded(key)

    def get(self, key: str, default: Any = None) -> Any:
        self._accessed = True
        return self._decoded(key) if dict.__contains__(self, key) else default

    def peek(self, key: str, default: Any = None) -> Any:
        """``get`` without counting as an access: for integrations that read their own
        bookkeeping keys (Flask's ``_permanent``) without making the response vary."""
        return self._decoded(key) if dict.__contains__(self, key) else default

    def __contains__(self, key: object) -> bool:
        self._accessed = True
        return dict.__contains__(self, key)

    def __iter__(self) -> Iterator[str]:
        self._accessed = True
        return iter(list(dict.keys(self)))

    def __len__(self) -> int:
        self._accessed = True
        return dict.__len__(self)

    def keys(self) -> Any:
        self._accessed = True
        return dict.keys(self)

    def values(self) -> Any:
        self._accessed = True
        self._materialize()
        return dict.values(self)

    def items(self) -> Any:
        self._accessed = True
        self._materialize()
        return dict.items(self)

    def copy(self) -> dict[str, Any]:
        """A plain ``dict`` with the same values (as ``dict.copy`` gives a subclass)."""
        self._accessed = True
        self._materialize()
        return dict(dict.items(self))

    def __or__(self, other: Any) -> dict[str, Any]:  # type: ignore[override]
        return self.copy() | other  # type: ignore[no-any-return]

    def __ror__(self, other: Any) -> dict[str, Any]:  # type: ignore[override]
        return other | self.copy()  # type: ignore[no-any-return]

    def __eq__(self, other: object) -> bool:
        self._accessed = True
        self._materialize()
        return dict.__eq__(self, other)

    __hash__ = None

    # -- writing: checked at once, naming the key -------------------------------------

    def __setitem__(self, key: str, value: Any) -> None:
        text = self.codec.encode(key, value)  # fail here, naming the key, not at the end of the request
        dict.__setitem__(self, key, value)
        self._pending.discard(key)
        self._written[key] = text if type(value) in _SCALARS else None
        self._accessed = True

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self._pending.discard(key)
        self._written.pop(key, None)
        self._handed.pop(key, None)
        self._removed = self._accessed = True

    def setdefault(self, key: str, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self[key] = default
        return self[key]

    def pop(self, key: str, default: Any = _MISSING) -> Any:
        self._accessed = True
        if not dict.__contains__(self, key):
            if default is _MISSING:
                raise KeyError(key)
            return default
        value = self._decoded(key)
        del self[key]
        return value

    def popitem(self) -> tuple[str, Any]:
        self._accessed = True
        self._materialize()
        key, value = dict.popitem(self)
        self._written.pop(key, None)
        self._handed.pop(key, None)
        self._removed = True
        return key, value

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value
        self._accessed = True

    def __ior__(self, other: Any) -> Session:  # type: ignore[override]
        self.update(other)
        return self

    def clear(self) -> None:
        dict.clear(self)
        self._pending.clear()
        self._written.clear()
        self._handed.clear()
        self._cleared = self._accessed = True

    def __repr__(self) -> str:
        # Neither the id nor the data: reprs end up in logs and tracebacks.
        return f"<Session user_id={self.user_id!r} keys={dict.__len__(self)} new={self.is_new}>"

    def __copy__(self) -> dict[str, Any]:
        return self.copy()

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(self.copy(), memo)

    def __reduce__(self) -> Any:
        raise TypeError("a Session cannot be pickled; copy its data with dict(session)")

    # -- what the request did -----------------------------------------------------------

    @property
    def accessed(self) -> bool:
        """The app read or wrote the data (its response depends on the session)."""
        return self._accessed

    @accessed.setter
    def accessed(self, value: bool) -> None:
        self._accessed = bool(value)

    def mark_accessed(self) -> None:
        """Count the session as accessed: Starlette's ``request.session`` calls it, since a
        page that shows there is no session depends on the cookie as much as one that reads it."""
        self._accessed = True

    @property
    def modified(self) -> bool:
        """The data differs from what was loaded (top-level or nested changes)."""
        return bool(self._changes()) or (self._record is None and bool(dict.__len__(self)))

    # -- metadata ---------------------------------------------------------------------

    @property
    def id(self) -> str:
        """The session id (the REST API's handle; the cookie carries it signed)."""
        if self._id is None:
            self._id = new_session_id(self.user_id)
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
            self._closed = self._record
        self._record = None
        self._loaded = _NO_DATA
        dict.clear(self)
        self._pending.clear()
        self._written.clear()
        self._handed.clear()
        self._user = None
        self._id = None
        self._regenerate = self._cleared = self._removed = self._logged_in = False
        self._accessed = True

    def regenerate(self) -> None:
        """Move the data to a new id; the old id stops working when the request ends."""
        self._id = None
        self._regenerate = self._record is not None

    def outcome(self, can_issue_id: bool = True) -> Outcome:
        """What this request did, for the core to commit.

        :param can_issue_id: False where no cookie can be sent (a websocket): nothing is
            created or moved to a new id there; data changes are still saved.
        """
        record = self._record
        if record is not None:
            if not (self._written or self._handed or self._removed or self._cleared or self._regenerate):
                return NOTHING  # most requests: a loaded session read, or not looked at
        elif not dict.__len__(self) and self._user is None and self._closed is None:
            return NOTHING  # a new session left empty
        has_data = bool(dict.__len__(self))
        if record is None:
            if (has_data or self._user is not None) and can_issue_id:
                return Outcome(Action.CREATE, None, self._closed, self.id, self._user, self._data())
            return NOTHING if self._closed is None else Outcome(Action.NONE, None, self._closed)
        if not has_data and self._user is None and (self._cleared or self._removed):
            return Outcome(Action.FORGET, record.id)  # an anonymous session emptied: forget it
        if self._regenerate and can_issue_id:
            action = Action.LOGIN if self._logged_in else Action.REGENERATE
            return Outcome(action, record.id, None, self.id, self._user, self._data(), record=record)
        changes = self._changes()
        if not changes:
            return NOTHING
        return Outcome(Action.SAVE, record.id, changes=changes, record=record)

    def _encoded(self, key: str, value: Any) -> str:
        if key in self._pending:
            return value  # type: ignore[no-any-return]  # still the stored JSON text
        text = self._written.get(key)
        return text if text is not None else self.codec.encode(key, value)

    def _data(self) -> dict[str, str]:
        """Every key's JSON text, for a record being created."""
        return {key: self._encoded(key, value) for key, value in dict.items(self)}

    def _changes(self) -> DataChanges:
        """What this request changed in the data, per key: the keys it set, and the lists
        and dicts it was given (they may have changed in place), compared as JSON."""
        if self._cleared:
            return DataChanges(updated=self._data(), clear=True)
        if not (self._written or self._handed or self._removed):
            return _UNCHANGED
        loaded = self._loaded
        updated = {}
        for key in (*self._written, *self._handed):
            text = self._encoded(key, dict.__getitem__(self, key))
            if loaded.get(key) != text:
                updated[key] = text
        removed = frozenset(loaded.keys() - dict.keys(self)) if self._removed else frozenset()
        return DataChanges(updated=updated, removed=removed)
