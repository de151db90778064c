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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..records import RECORD_FORMAT, SessionRecord, decode_value, is_user

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
    if reply and isinstance(reply[0], bytes):  # all bytes, unless the client decodes replies
        try:
            reply = list(map(bytes.decode, reply))  # strict UTF-8 is the fast path
        except UnicodeDecodeError:  # lone surrogates, kept as MemoryStore keeps them
            reply = [decode(item) for item in reply]
    items = iter(reply)
    return dict(zip(items, items, strict=True))


def decode_record(
    reply: Sequence[Any] | Mapping[Any, Any], token: str, session_id: str | None = None
) -> SessionRecord | None:
    """Rebuild a record from its hash, or ``None`` if anything about it is off (the caller
    deletes it). The record must be the one stored under ``token``: its id hashes to it,
    or, when the caller knows it, is ``session_id``.

    Every data value is checked to be JSON, so a damaged record fails here and never as
    a 500 when the application reads the key. This runs on every request: it builds the
    record directly instead of through a JSON round trip.
    """
    try:
        fields = pairs(reply)
        if fields["v"] != VERSION:
            return None
        opened, last_request = float(fields["opened"]), float(fields["last_request"])
        idle_timeout, absolute_expiry = float(fields["idle_timeout"]), float(fields["absolute_expiry"])
        # A sum is finite only if every term is (an inf or a nan makes it inf or nan).
        if not math.isfinite(opened + last_request + idle_timeout + absolute_expiry) or idle_timeout <= 0:
            return None
        user_text, uid = fields.get("user"), fields.get("uid")
        user: dict[str, Any] | None = None
        if user_text is not None or uid is not None:
            user = decode_value(user_text or "")  # no user text: not JSON, so a damaged record
            if not is_user(user) or user["id"] != uid:
                return None
        data: dict[str, str] = {}
        for name, text in fields.items():
            if name.startswith(DATA_PREFIX):
                decode_value(text)
                data[name[len(DATA_PREFIX) :]] = text
        sid, address, client = fields["id"], fields["address"], fields["client"]
    except (KeyError, TypeError, ValueError, RecursionError):
        return None
    owned = sid == session_id if session_id is not None else digest(sid) == token
    if not owned:
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
# Cost: every request runs LOAD_AND_TOUCH, and a script's server time shows up several
# times over in the client's wait (past a few microseconds the client's event loop has
# gone to sleep and must be woken), so the hot scripts make as few calls as they can:
# no TYPE probe (a pcall tells a wrong type), no second read of the hash.
#
# Helpers every script starts with. ``live_session`` and LOAD_AND_TOUCH's loop are the
# places that decide, inside Redis, whether a session hash is live at ``now``: a record
# that is not a hash, has another format version or unreadable times is deleted as
# corrupt; one past its expiry is deleted as expired.
_PRELUDE = (
    f"\nlocal VERSION = '{VERSION}'"
    + """
local function num(s)
  local n = tonumber(s)
  if n and n == n and n > -math.huge and n < math.huge then return n end
  return nil
end
local function usable_times(version, last, idle, abs)
  return version == VERSION and last and idle and abs and idle > 0
end
local function live_session(key, now)
  local m = redis.pcall('HMGET', key, 'v', 'last_request', 'idle_timeout', 'absolute_expiry')
  if m.err then redis.call('DEL', key) return nil, 'corrupt' end
  local last, idle, abs = num(m[2]), num(m[3]), num(m[4])
  if usable_times(m[1], last, idle, abs) then
    local expires = math.min(last + idle, abs)
    if now < expires then return expires end
    redis.call('DEL', key)
    return nil, 'expired'
  end
  if redis.call('DEL', key) == 0 then return nil, 'missing' end
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
)


def _script(name: str, body: str) -> Script:
    return Script(name, _PRELUDE + body)


# ARGV: now, then the user id if the session must be that user's.
# Reply: the hash as a flat list, as it is after the touch; nil if missing, expired or
# another user's; 0 if corrupt. One read of the whole hash, then at most two writes.
LOAD_AND_TOUCH = _script(
    "load_and_touch",
    """
local key, now = KEYS[1], tonumber(ARGV[1])
local hash = redis.pcall('HGETALL', key)
if hash.err then redis.call('DEL', key) return 0 end
if #hash == 0 then return false end
local version, last, idle, abs, uid, at
for i = 1, #hash, 2 do
  local name = hash[i]
  if name == 'last_request' then last, at = num(hash[i + 1]), i + 1
  elseif name == 'idle_timeout' then idle = num(hash[i + 1])
  elseif name == 'absolute_expiry' then abs = num(hash[i + 1])
  elseif name == 'v' then version = hash[i + 1]
  elseif name == 'uid' then uid = hash[i + 1]
  end
end
if not usable_times(version, last, idle, abs) then redis.call('DEL', key) return 0 end
local expires = math.min(last + idle, abs)
if now >= expires then redis.call('DEL', key) return false end
if ARGV[2] and uid ~= ARGV[2] then return false end
if now > last then
  local written = redis.pcall('HSET', key, 'last_request', ARGV[1])
  -- Out of memory under maxmemory-policy noeviction: serve the session unrefreshed.
  if type(written) == 'table' and written.err then return hash end
  hash[at] = ARGV[1]
  expires = math.min(now + idle, abs)
end
expire_in(key, expires, now)
return hash
""",
)

# ARGV: now, clear ('1' or '0'), n_removed, removed fields..., field, value, ...
# Reply: 1 if saved, 0 if the session is gone (nothing written: no resurrection). Writes go
# first: when Redis is out of memory they fail before anything was removed. The key keeps
# the TTL its last touch gave it (HSET and HDEL leave it): a save moves no expiry.
SAVE_CHANGES = _script(
    "save_changes",
    """
local key, now = KEYS[1], tonumber(ARGV[1])
if not live_session(key, now) then return 0 end
local n = tonumber(ARGV[3])
each_chunk('HSET', key, ARGV, 4 + n, #ARGV, 500)
if ARGV[2] == '1' then
  local written = {}
  for i = 4 + n, #ARGV, 2 do written[ARGV[i]] = true end
  local doomed = {}
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if string.sub(field, 1, 2) == 'd:' and not written[field] then doomed[#doomed + 1] = field end
  end
  each_chunk('HDEL', key, doomed, 1, #doomed, 500)
else
  each_chunk('HDEL', key, ARGV, 4, 3 + n, 500)
end
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

# ARGV: now.  Reply: {1, uid or ''} if a live session was deleted, else {0, ''}.
DELETE = _script(
    "delete",
    """
local key = KEYS[1]
if not live_session(key, tonumber(ARGV[1])) then return {0, ''} end
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
