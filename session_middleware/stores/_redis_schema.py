"""What RedisStore keeps in Redis: key names, the record codec, the Lua scripts, the commands.

The sync and the async store share everything here; they differ only in how they send a
command. Nothing in this module does I/O.

Layout (``P`` is the store's prefix, ``H(x)`` the SHA-256 hex digest of ``x``):

- ``P s:H(session id)``: a hash, one session. Meta fields ``v`` (format version), ``id``,
  ``opened``, ``last_request``, ``idle_timeout``, ``absolute_expiry`` (floats as Python
  ``repr``), ``address``, ``client``, ``user`` (JSON) and ``uid`` (the user id) when logged
  in; then one field ``d:<key>`` per data key, holding that value's JSON text.
- ``P u:H(user id)``: a sorted set, the user's index. Members are the ``H(session id)`` of
  the user's sessions, scored by their absolute expiry, which never moves: a member whose
  score has passed is certainly dead; any other member is checked against its session.

Keys are hashed so that no session id (a bearer secret once signed into a cookie) and no
user-chosen string ever becomes a key name, and so that the 12-character ``id_hash`` in
logs is the start of the session's key.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import RECORD_FORMAT, SessionRecord, record_from_json

#: The format version stored in every record (field ``v``).
VERSION = str(RECORD_FORMAT)
DATA_PREFIX = "d:"
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_TIMES = ("opened", "last_request", "idle_timeout", "absolute_expiry")


def digest(text: str) -> str:
    return hashlib.sha256(encode(text)).hexdigest()


def encode(text: str) -> bytes:
    """UTF-8, keeping lone surrogates (valid in a Python str) exactly as MemoryStore does."""
    return text.encode("utf-8", "surrogatepass")


def decode(raw: bytes | str) -> str:
    return raw.decode("utf-8", "surrogatepass") if isinstance(raw, bytes) else raw


@dataclass(frozen=True, slots=True)
class Keys:
    """Key names under one prefix."""

    prefix: str

    def session(self, session_id: str) -> str:
        return self.session_at(digest(session_id))

    def session_at(self, token: str) -> str:
        return f"{self.prefix}s:{token}"

    def user(self, user_id: str) -> str:
        return f"{self.prefix}u:{digest(user_id)}"


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
        fields["uid"] = str(record.user["id"])
    flat: list[bytes] = []
    for name, value in fields.items():
        flat += (encode(name), encode(value))
    for key, text in record.data.items():
        flat += (encode(DATA_PREFIX + key), encode(text))
    return flat


def pairs(reply: Sequence[Any] | Mapping[Any, Any]) -> dict[str, str]:
    """A hash as a dict, from ``HGETALL`` (a dict) or a script (a flat list)."""
    if isinstance(reply, Mapping):
        return {decode(k): decode(v) for k, v in reply.items()}
    return {decode(reply[i]): decode(reply[i + 1]) for i in range(0, len(reply) - 1, 2)}


def decode_record(reply: Sequence[Any] | Mapping[Any, Any], token: str) -> SessionRecord | None:
    """Rebuild a record from its hash, or ``None`` if anything about it is off (the caller
    deletes it).

    Every data value is checked to be JSON, so a damaged record fails here and never as
    a 500 when the application reads the key.
    """
    try:
        fields = pairs(reply)
        if fields.get("v") != VERSION or any(not _NUMBER.fullmatch(fields.get(t, "")) for t in _TIMES):
            return None
        user_text, uid = fields.get("user"), fields.get("uid")
        user = None if user_text is None else json.loads(user_text)
        if (user is None) != (uid is None) or (user is not None and (not isinstance(user, dict) or user["id"] != uid)):
            return None
        data = {k[len(DATA_PREFIX) :]: v for k, v in fields.items() if k.startswith(DATA_PREFIX)}
        for text in data.values():
            json.loads(text)
        meta: dict[str, Any] = {"v": RECORD_FORMAT, "user": user, **{t: float(fields[t]) for t in _TIMES}}
        meta.update({name: fields[name] for name in ("id", "address", "client")})
    except (KeyError, TypeError, ValueError, RecursionError):
        return None
    record = record_from_json(meta, data)
    if record is None or record.idle_timeout <= 0 or digest(record.id) != token:
        return None
    return record


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


@dataclass(frozen=True, slots=True)
class Eval:
    """Run ``script`` on one key: every script touches exactly one key, so one hash slot."""

    script: Script
    key: str
    args: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Command:
    """A plain command on one key, e.g. ``Command(("DEL", key))``."""

    args: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Batch:
    """Plain commands pipelined together (split by node on a cluster); the reply is their
    replies in order, an error reply as the exception instance."""

    commands: tuple[Command, ...]


Op = Eval | Command | Batch


def batch(commands: Iterable[Command]) -> Batch:
    return Batch(tuple(commands))


# -- Lua -----------------------------------------------------------------------------------

# Out of memory (maxmemory-policy noeviction), Redis refuses a script's first command that
# needs memory, but none after a first write: a script that must not half-happen under
# memory pressure therefore writes what needs memory first (SAVE_CHANGES, CREATE).
#
# Helpers every script starts with. ``live_session`` is the single place that decides,
# inside Redis, whether a session hash is live at ``now``: a record that is not a hash,
# has another format version or unreadable times is deleted as corrupt; one past its
# expiry is deleted as expired.
_PRELUDE = """
local function num(s)
  local n = tonumber(s)
  if n and n == n and n > -math.huge and n < math.huge then return n end
  return nil
end
local function live_session(key, now, version)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'none' then return nil, 'missing' end
  if kind == 'hash' then
    local m = redis.call('HMGET', key, 'v', 'last_request', 'idle_timeout', 'absolute_expiry')
    local last, idle, abs = num(m[2]), num(m[3]), num(m[4])
    if m[1] == version and last and idle and abs and idle > 0 then
      local expires = math.min(last + idle, abs)
      if now < expires then return expires, last, idle, abs end
      redis.call('DEL', key)
      return nil, 'expired'
    end
  end
  redis.call('DEL', key)
  return nil, 'corrupt'
end
local function expire_in(key, expires, now)
  local ms = math.max(1, math.min(math.ceil((expires - now) * 1000), 1e13))
  redis.call('PEXPIRE', key, string.format('%d', ms))
end
local function index_usable(key)
  local kind = redis.call('TYPE', key)['ok']
  if kind == 'zset' or kind == 'none' then return true end
  redis.call('DEL', key)
  return false
end
local function each_chunk(command, key, list, first, last, step)
  for i = first, last, step do
    redis.call(command, key, unpack(list, i, math.min(i + step - 1, last)))
  end
end
"""


def _script(name: str, body: str) -> Script:
    return Script(name, _PRELUDE + body)


# ARGV: now, version, check_user ('1' or '0'), user_id.
# Reply: the hash as a flat list; nil if missing, expired or another user's; 0 if corrupt.
LOAD_AND_TOUCH = _script(
    "load_and_touch",
    """
local key, now = KEYS[1], tonumber(ARGV[1])
local expires, last, idle, abs = live_session(key, now, ARGV[2])
if not expires then
  if last == 'corrupt' then return 0 end
  return false
end
if ARGV[3] == '1' and redis.call('HGET', key, 'uid') ~= ARGV[4] then return false end
if now > last then
  local written = redis.pcall('HSET', key, 'last_request', ARGV[1])
  -- Out of memory under maxmemory-policy noeviction: serve the session unrefreshed.
  if type(written) == 'table' and written.err then return redis.call('HGETALL', key) end
  expires = math.min(now + idle, abs)
end
expire_in(key, expires, now)
return redis.call('HGETALL', key)
""",
)

# ARGV: now, version, clear ('1' or '0'), n_removed, removed fields..., field, value, ...
# Reply: 1 if saved, 0 if the session is gone (nothing written: no resurrection). Writes go
# first: when Redis is out of memory they fail before anything was removed.
SAVE_CHANGES = _script(
    "save_changes",
    """
local key, now = KEYS[1], tonumber(ARGV[1])
local expires = live_session(key, now, ARGV[2])
if not expires then return 0 end
local n = tonumber(ARGV[4])
each_chunk('HSET', key, ARGV, 5 + n, #ARGV, 500)
if ARGV[3] == '1' then
  local written = {}
  for i = 5 + n, #ARGV, 2 do written[ARGV[i]] = true end
  local doomed = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'd:' and not written[field] then doomed[#doomed + 1] = field end
  end
  each_chunk('HDEL', key, doomed, 1, #doomed, 500)
else
  each_chunk('HDEL', key, ARGV, 5, 4 + n, 500)
end
expire_in(key, expires, now)
return 1
""",
)

# ARGV: ttl_ms, field, value, ...  Writes a whole record and its expiry at once.
CREATE = _script(
    "create",
    """
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('DEL', KEYS[1]) end
each_chunk('HSET', KEYS[1], ARGV, 2, #ARGV, 500)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return 1
""",
)

# ARGV: now, version.  Reply: {1, uid or ''} if a live session was deleted, else {0, ''}.
DELETE = _script(
    "delete",
    """
local key = KEYS[1]
if not live_session(key, tonumber(ARGV[1]), ARGV[2]) then return {0, ''} end
local uid = redis.call('HGET', key, 'uid') or ''
redis.call('DEL', key)
return {1, uid}
""",
)

# ARGV: now.  Prunes members whose absolute expiry has passed; replies the others.
INDEX_MEMBERS = _script(
    "index_members",
    """
if not index_usable(KEYS[1]) then return {} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
return redis.call('ZRANGE', KEYS[1], 0, -1)
""",
)

# ARGV: members...
INDEX_REMOVE = _script(
    "index_remove",
    """
if not index_usable(KEYS[1]) or #ARGV == 0 then return 0 end
each_chunk('ZREM', KEYS[1], ARGV, 1, #ARGV, 500)
return 1
""",
)

# ARGV: now, cap ('' for none), protected member, n_add, member, score, ..., n_remove,
# removed members..., then the eviction order (least recently used first).
# With a cap, members beyond it are removed atomically, in the given order first and then
# by lowest score (members added concurrently, not in the order); the protected member (the
# new session) never is. Reply: the evicted members and their scores, flat.
INDEX_ADD = _script(
    "index_add",
    """
local key, now = KEYS[1], tonumber(ARGV[1])
index_usable(key)
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
local i = 5
local n_add = tonumber(ARGV[4])
for _ = 1, n_add do
  redis.call('ZADD', key, ARGV[i + 1], ARGV[i])
  i = i + 2
end
local n_remove = tonumber(ARGV[i])
each_chunk('ZREM', key, ARGV, i + 1, i + n_remove, 500)
i = i + n_remove + 1
local evicted = {}
if ARGV[2] ~= '' then
  local excess = redis.call('ZCARD', key) - tonumber(ARGV[2])
  local function evict(member)
    if excess > 0 and member ~= ARGV[3] then
      local score = redis.call('ZSCORE', key, member)
      if score then
        redis.call('ZREM', key, member)
        evicted[#evicted + 1] = member
        evicted[#evicted + 1] = score
        excess = excess - 1
      end
    end
  end
  for j = i, #ARGV do evict(ARGV[j]) end
  if excess > 0 then
    for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do evict(member) end
  end
end
local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
if top[2] then expire_in(key, tonumber(top[2]), now) end
return evicted
""",
)

SCRIPTS = (LOAD_AND_TOUCH, SAVE_CHANGES, CREATE, DELETE, INDEX_MEMBERS, INDEX_REMOVE, INDEX_ADD)
