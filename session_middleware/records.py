"""What a store keeps for one session, and the JSON codec for its data."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeGuard

#: Bytes of randomness in a session id (256 bits), rendered as 43 base64url characters.
SESSION_ID_BYTES = 32
SESSION_ID_LENGTH = 43
#: A logged-in session's id starts with this many characters derived from its user id
#: (``user_tag``), so a store can keep the session beside its user's index (one Redis
#: Cluster hash slot per user). The 256 random bits follow in full.
USER_TAG_LENGTH = 4
TAGGED_SESSION_ID_LENGTH = USER_TAG_LENGTH + SESSION_ID_LENGTH
_SESSION_ID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

#: Version of the stored record layout; stores write it and refuse what they cannot read.
RECORD_FORMAT = 1

_encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _finite_float(value: float) -> str:
    return float.__repr__(value) if math.isfinite(value) else _encoder.encode(value)  # the encoder refuses


# What the encoder writes for exact scalar types, without building a C encoder per call
# (it does for anything but a str): a counter or a flag is the commonest value written.
_SCALARS: dict[type, Callable[[Any], str]] = {
    int: int.__repr__,
    float: _finite_float,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}
_raw_decode = json.JSONDecoder().raw_decode


def user_tag(user_id: str) -> str:
    """Four URL-safe characters derived from ``user_id`` (24 bits of its SHA-256)."""
    digest = hashlib.sha256(user_id.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest[:3]).decode()


def new_session_id(user_id: str | None = None) -> str:
    """A fresh session id: 256 bits from the OS CSPRNG, URL- and cookie-safe.

    With ``user_id`` the id starts with that user's :func:`user_tag`: stores may place
    the session next to the user's index, and an anonymous id (43 characters) can never
    be mistaken for a logged-in one (47).
    """
    random_part = secrets.token_urlsafe(SESSION_ID_BYTES)
    return random_part if user_id is None else user_tag(user_id) + random_part


def session_tag(session_id: str) -> str | None:
    """The user tag a logged-in session's id starts with, or ``None`` for an anonymous id."""
    return session_id[:USER_TAG_LENGTH] if len(session_id) == TAGGED_SESSION_ID_LENGTH else None


def is_session_id(value: str) -> bool:
    """Whether ``value`` has the exact shape of an id this package generates."""
    return len(value) in (SESSION_ID_LENGTH, TAGGED_SESSION_ID_LENGTH) and _SESSION_ID_ALPHABET.issuperset(value)


def id_hash(session_id: str) -> str:
    """A short, irreversible tag for a session id, for logs and error messages."""
    return hashlib.sha256(session_id.encode()).hexdigest()[:12]


def encode_value(key: object, value: Any) -> str:
    """Encode one session value as compact JSON.

    :raises TypeError: naming ``key`` when the key is not a string or the value is not
        JSON (including NaN and infinities, which JSON cannot carry).
    """
    if not isinstance(key, str):
        raise TypeError(f"session keys must be str, not {type(key).__name__}: {key!r}")
    try:
        scalar = _SCALARS.get(type(value))
        return scalar(value) if scalar is not None else _encoder.encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(f"session value for key {key!r} is not JSON serializable: {exc}") from None


def decode_value(text: str) -> Any:
    """Decode one value written by :func:`encode_value`."""
    # The commonest value is a short string without escapes: its text is the value.
    # ``isprintable`` excludes the control characters JSON forbids raw (and a few it
    # allows, which take the parser like everything else).
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        inner = text[1:-1]
        if '"' not in inner and "\\" not in inner and inner.isprintable():
            return inner
    # json.loads runs two whitespace regexes around the parse, several times the cost of
    # parsing a short value; compact JSON has no surrounding whitespace, so parse it
    # directly and leave anything else (whitespace, trailing data, errors) to json.loads.
    try:
        value, end = _raw_decode(text)
    except ValueError:
        return json.loads(text)
    return value if end == len(text) else json.loads(text)


def _user_error(user: object) -> Exception | None:
    """What is wrong with ``user`` as a session's user, or ``None``."""
    if type(user) is not dict and not isinstance(user, Mapping):
        return TypeError(f"user must be a mapping with a string 'id', not {type(user).__name__}")
    user_id = user.get("id")
    if not isinstance(user_id, str):
        return TypeError("user['id'] must be a str")
    if not user_id or len(user_id) > 256 or not user_id.isprintable():
        return ValueError("user['id'] must be 1 to 256 printable characters")
    name = user.get("name")
    if name is not None and not isinstance(name, str):
        return TypeError("user['name'] must be a str or absent")
    return None


def is_user(user: object) -> TypeGuard[dict[str, Any]]:
    """Whether ``user``, decoded from a store, is a dict :func:`validate_user` accepts."""
    return isinstance(user, dict) and _user_error(user) is None


def validate_user(user: Mapping[str, Any]) -> dict[str, Any]:
    """Check a user mapping (string ``id``, optional string ``name``) and copy it.

    :raises TypeError: if it is not a mapping or a field has the wrong type.
    :raises ValueError: if ``id`` is empty or too long.
    """
    error = _user_error(user)
    if error is not None:
        raise error
    # The user travels as JSON too; the round trip also makes a deep copy, so the
    # caller's nested values (a list of roles) are never shared with a stored record.
    copied: dict[str, Any] = decode_value(encode_value("user", dict(user)))
    return copied


@dataclass(slots=True, eq=True)
class SessionRecord:
    """One stored session. Times are seconds since the epoch (UTC).

    The record carries its own timeouts so that any store (or the REST API) can slide
    the idle expiry without knowing how the middleware was configured. ``data`` maps
    each key to its JSON text, so stores merge changes per key and never share mutable
    objects with a request.

    Treat a record as a value: the package never changes one, it builds a new one
    (``dataclasses.replace``), and every store hands out records of its own, so changing
    one changes nothing stored. (It is not ``frozen``: a frozen dataclass costs five times
    as much to build, and a store builds one on every request.)
    """

    id: str
    opened: float
    last_request: float
    idle_timeout: float
    absolute_expiry: float
    address: str = ""
    client: str = ""
    user: Mapping[str, Any] | None = None
    data: Mapping[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> str | None:
        return None if self.user is None else str(self.user["id"])

    @property
    def expires_at(self) -> float:
        """The earlier of the idle and the absolute expiry."""
        return min(self.last_request + self.idle_timeout, self.absolute_expiry)

    def is_live(self, now: float) -> bool:
        return now < self.expires_at

    def touched(self, now: float) -> SessionRecord:
        """This record after a request at ``now`` (``last_request`` never moves back)."""
        # The constructor rather than dataclasses.replace: stores call this on every request.
        return SessionRecord(
            self.id,
            self.opened,
            max(now, self.last_request),
            self.idle_timeout,
            self.absolute_expiry,
            self.address,
            self.client,
            self.user,
            self.data,
        )

    def decoded_data(self) -> dict[str, Any]:
        return {key: decode_value(text) for key, text in self.data.items()}


@dataclass(slots=True, eq=True)
class DataChanges:
    """Per-key changes to a session's data, applied by a store in one operation.

    ``clear`` drops every key first (``Session.clear()``, the REST API's replace), then
    ``removed`` keys go and ``updated`` keys (JSON text) are written. Keys nobody touched
    are left alone, so concurrent requests changing different keys all keep their work.
    """

    updated: Mapping[str, str] = field(default_factory=dict)
    removed: frozenset[str] = frozenset()
    clear: bool = False

    def __bool__(self) -> bool:
        return self.clear or bool(self.updated) or bool(self.removed)

    def apply(self, data: Mapping[str, str]) -> dict[str, str]:
        """``data`` with these changes, as a new dict."""
        return self.apply_in_place(dict(data))

    def apply_in_place(self, data: dict[str, str]) -> dict[str, str]:
        """Apply these changes to ``data`` itself (a copy the caller owns); return it."""
        if self.clear:
            data.clear()
        else:
            for key in self.removed:
                data.pop(key, None)
        data.update(self.updated)
        return data
