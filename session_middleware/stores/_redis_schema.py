"""What RedisStore keeps in Redis: key names, the record codec, the commands.

The sync and the async store share everything here and in :mod:`._redis_scripts`; they
differ only in how they send a command. Nothing in this module does I/O.

Layout (``P`` is the store's prefix, ``H(x)`` the SHA-256 hex digest of ``x``, ``T(u)``
the 4-character :func:`~session_middleware.records.user_tag` of user ``u``):

- ``P s:H(id)``: a hash, one session whose id is untagged (43 characters: anonymous, or
  a *legacy* logged-in session stored before ids were tagged). ``P s:H(id){T}`` for a
  tagged id (47 characters, starting with ``T``): the Redis hash tag ``{T}`` puts it in
  the hash slot of its user's index. Meta fields ``v`` (format version), ``id``,
  ``opened``, ``last_request``, ``idle_timeout``, ``absolute_expiry`` (floats as Python
  ``repr``), ``address``, ``client``, ``user`` (JSON) and ``uid`` (the user id) when
  logged in, ``ix`` (``H(uid)``, so a script finds the index from the session) on a
  tagged logged-in session; then one field ``d:<key>`` per data key, its value's JSON.
- ``P u:H(uid){T(uid)}``: a sorted set, the index of the user's tagged sessions, in the
  same slot as all of them. ``P u:H(uid)``: the *legacy* index, of the user's untagged
  logged-in sessions. Members are the ``H(id)`` of the sessions, scored by their absolute
  expiry, which never moves: a member whose score has passed is certainly dead; any
  other member is checked against its session.

Keys are hashed so that no session id (a bearer secret once signed into a cookie) and no
user-chosen string ever becomes a key name, and so that the 12-character ``id_hash`` in
logs is the start of the session's key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, NamedTuple

from ..records import RECORD_FORMAT, SessionRecord, decode_value, is_user, session_tag, user_tag

#: The format version stored in every record (field ``v``).
VERSION = str(RECORD_FORMAT)
DATA_PREFIX = "d:"


def digest(text: str) -> str:
    return hashlib.sha256(encode(text)).hexdigest()


def encode(text: str) -> bytes:
    """UTF-8, keeping lone surrogates (valid in a Python str) exactly as MemoryStore does."""
    return text.encode("utf-8", "surrogatepass")


def decode(raw: bytes | str) -> str:
    return raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw


def check_prefix(prefix: str) -> None:
    """Refuse a prefix that would hide the store's hash tags from Redis Cluster.

    Redis hashes the text between a key's first ``{`` and the next ``}``. A prefix with
    a complete tag of its own (``"{sessions}:"``) puts every key in one slot, which keeps
    each user's keys together too; one with a ``{`` that does not close inside it would
    swallow the store's tags, and one with an empty ``{}`` first makes Redis hash whole
    keys: either would split a session from its user's index.
    """
    if not isinstance(prefix, str) or not prefix:
        raise ValueError("prefix must be a non-empty string (it namespaces every key)")
    start = prefix.find("{")
    if start >= 0 and prefix.find("}", start + 1) in (-1, start + 1):
        raise ValueError("a '{' in prefix must open a non-empty hash tag closed inside it, like '{sessions}:'")


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix, and whether legacy keys may exist under it."""

    prefix: str
    #: False once no legacy (untagged) logged-in session can be stored under the prefix:
    #: the legacy indexes are then never read, and such sessions are refused.
    legacy: bool = True

    @property
    def sessions(self) -> str:
        """What every session key starts with (scripts build a member's key from it)."""
        return f"{self.prefix}s:"

    @property
    def indexes(self) -> str:
        """What every user index key starts with."""
        return f"{self.prefix}u:"

    def session(self, session_id: str) -> str:
        return self.session_at(digest(session_id), session_tag(session_id))

    def session_at(self, token: str, tag: str | None = None) -> str:
        return f"{self.prefix}s:{token}" if tag is None else f"{self.prefix}s:{token}{{{tag}}}"

    def index(self, user_id: str) -> str:
        """The index of the user's tagged sessions, in their hash slot."""
        return f"{self.prefix}u:{digest(user_id)}{{{user_tag(user_id)}}}"

    def legacy_index(self, user_id: str) -> str:
        """The index of the user's untagged (legacy) logged-in sessions."""
        return f"{self.prefix}u:{digest(user_id)}"


def colocated(keys: Keys, record: SessionRecord) -> bool:
    """Whether ``record`` is a logged-in session kept in its user's hash slot.

    :raises ValueError: a tagged id on another user's session (it would sit in the wrong
        slot), or an untagged one when legacy sessions are off: ids of logged-in sessions
        come from ``new_session_id(user_id)``.
    """
    tag, user_id = session_tag(record.id), record.user_id
    if user_id is None:
        return False
    if tag is None and keys.legacy:
        return False
    if tag != user_tag(user_id):
        raise ValueError("a logged-in session's id must carry its user's tag: use new_session_id(user_id)")
    return True


# -- the record codec --------------------------------------------------------------------


def record_fields(record: SessionRecord) -> list[bytes]:
    """The record as a flat ``field, value, ...`` list for ``HSET``."""
    fields: dict[str, str] = {
        "v": VERSION,
        "id": record.id,
        "opened": repr(float(record.opened)),
        "last_request": repr(float(record.last_request)),
        "idle_timeout": repr(float(record.idle_timeout)),
        "absolute_expiry": repr(float(record.absolute_expiry)),
        "address": record.address,
        "client": record.client,
    }
    if record.user is not None:
        fields["user"] = json.dumps(dict(record.user), ensure_ascii=False, separators=(",", ":"))
        fields["uid"] = uid = str(record.user["id"])
        if session_tag(record.id) is not None:
            fields["ix"] = digest(uid)
    flat: list[bytes] = []
    for name, value in fields.items():
        flat += (encode(name), encode(value))
    for key, text in record.data.items():
        flat += (encode(DATA_PREFIX + key), encode(text))
    return flat


def raw_fields(reply: Sequence[Any] | Mapping[Any, Any]) -> dict[bytes, bytes]:
    """A hash as a dict of its raw bytes, from ``HGETALL`` (a dict) or a script (a flat
    list); text from a client that decodes replies is encoded back."""
    if type(reply) is not dict and not isinstance(reply, Mapping):
        items = iter(reply)
        reply = dict(zip(items, items, strict=True))
    first = next(iter(reply), None)
    if first is None or type(first) is bytes:
        return reply  # type: ignore[return-value]
    return {_raw(k): _raw(v) for k, v in reply.items()}


def _raw(item: bytes | str) -> bytes:
    return item if isinstance(item, bytes) else encode(item)


_VERSION_RAW = encode(VERSION)
#: The meta fields every record has, in one lookup (a missing one raises KeyError).
_META = itemgetter(b"v", b"opened", b"last_request", b"idle_timeout", b"absolute_expiry", b"id", b"address", b"client")
_D, _COLON = encode(DATA_PREFIX[0]), encode(DATA_PREFIX[1])


def decode_record(
    reply: Sequence[Any] | Mapping[Any, Any], token: str, session_id: str | None = None
) -> SessionRecord | None:
    """Rebuild a record from its hash, or ``None`` if anything about it is off (the caller
    deletes it). The record must be the one stored under ``token``: its id hashes to it,
    or, when the caller knows it, is ``session_id``.

    Every data value is checked to be JSON, so a damaged record fails here and never as
    a 500 when the application reads the key. This runs on every request: it reads the
    fields as the bytes Redis sent and decodes only the text the record keeps.
    """
    try:
        fields = raw_fields(reply)
        version, opened_raw, last_raw, idle_raw, absolute_raw, sid_raw, address_raw, client_raw = _META(fields)
        if version != _VERSION_RAW:
            return None
        opened, last_request = float(opened_raw), float(last_raw)
        idle_timeout, absolute_expiry = float(idle_raw), float(absolute_raw)
        # A sum is finite only if every term is (an inf or a nan makes it inf or nan).
        if not math.isfinite(opened + last_request + idle_timeout + absolute_expiry) or idle_timeout <= 0:
            return None
        sid = sid_raw.decode("utf-8", "surrogatepass")
        owned = sid == session_id if session_id is not None else digest(sid) == token
        if not owned:
            return None
        user_raw, uid_raw = fields.get(b"user"), fields.get(b"uid")
        user: dict[str, Any] | None = None
        if user_raw is not None or uid_raw is not None:
            user = decode_value(decode(user_raw or b""))  # no user text: not JSON, so a damaged record
            if not is_user(user) or uid_raw is None or user["id"] != decode(uid_raw):
                return None
        data: dict[str, str] = {}
        for name, raw in fields.items():
            # A data field's name starts with "d:". Two one-byte slices (cached objects)
            # cost less than a two-byte one on every field's name.
            if name[:1] == _D and name[1:2] == _COLON:
                text = raw.decode("utf-8", "surrogatepass")
                decode_value(text)
                data[name[2:].decode("utf-8", "surrogatepass")] = text
        address = address_raw.decode("utf-8", "surrogatepass")
        client = client_raw.decode("utf-8", "surrogatepass")
    except (KeyError, TypeError, ValueError, RecursionError, AttributeError):
        return None
    return SessionRecord(sid, opened, last_request, idle_timeout, absolute_expiry, address, client, user, data)


def ttl_ms(expires_at: float, now: float) -> int:
    """Milliseconds until ``expires_at``, for PEXPIRE: never 0 (Redis would delete at once)."""
    return max(1, min(math.ceil((expires_at - now) * 1000), 10**13))


# -- commands ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Script:
    """A Lua script, sent as EVALSHA (EVAL when the server does not know it yet)."""

    name: str
    lua: str
    #: The digest Redis names the script by, computed once (every request sends it).
    sha: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha", hashlib.sha1(self.lua.encode()).hexdigest())  # noqa: S324


# The operations are named tuples rather than frozen dataclasses: every request builds
# one, and a tuple is built in half the time. Each is told apart by its class.


class Eval(NamedTuple):
    """Run ``script`` on ``keys``, which always share one hash slot (one tag, or one key).

    A script may also reach keys it derives from a declared one's hash tag (a member's
    session from its user's index): they are in the same slot by construction.
    """

    script: Script
    keys: tuple[str, ...]
    args: tuple[Any, ...] = ()


class Command(NamedTuple):
    """A plain command on one key, e.g. ``Command(("DEL", key))``."""

    args: tuple[Any, ...]


class Batch(NamedTuple):
    """Plain commands pipelined together (split by node on a cluster); the reply is their
    replies in order, an error reply as the exception instance."""

    commands: tuple[Command, ...]


Op = Eval | Command | Batch


def batch(commands: Iterable[Command]) -> Batch:
    return Batch(tuple(commands))
