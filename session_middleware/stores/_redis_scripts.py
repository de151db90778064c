"""RedisStore's Lua scripts, one constant each, shared by the sync and the async store.

Every script runs in one hash slot: on one key, or on a user's index and the tagged
sessions of that user, whose keys it builds from the index members and the ``{tag}``
suffix it is given (the same slot by construction). Redis Cluster lets a script reach
undeclared keys of its own slot as long as it declares no flags: no script here starts
with a ``#!lua`` line.
"""

from __future__ import annotations

from ._redis_schema import VERSION, Script

# Out of memory (maxmemory-policy noeviction), Redis refuses a script's first command that
# needs memory, but none after a first write: a script that must not half-happen under
# memory pressure therefore writes what needs memory first (SAVE_CHANGES, CREATE...).
#
# Cost: every request that is due for a touch runs LOAD_AND_TOUCH, and a script's server
# time shows up several times over in the client's wait (past a few microseconds the
# client's event loop has gone to sleep and must be woken), so the hot scripts make as few
# calls as they can: no TYPE probe (a pcall tells a wrong type), no second read of a hash.
#
# Helpers every script starts with. ``live_session``, ``member_last`` and LOAD_AND_TOUCH's
# loop are the places that decide, inside Redis, whether a session hash is live at
# ``now``: a record that is not a hash, has another format version or unreadable times is
# corrupt; one past its expiry is expired.
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
-- The last request of an indexed session that is live and the user's, else nil.
local function member_last(key, now, uid)
  local m = redis.pcall('HMGET', key, 'v', 'last_request', 'idle_timeout', 'absolute_expiry', 'uid')
  if m.err then return nil end
  local last, idle, abs = num(m[2]), num(m[3]), num(m[4])
  if usable_times(m[1], last, idle, abs) and now < math.min(last + idle, abs) and m[5] == uid then return last end
  return nil
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
local function index_expiry(key, now)
  local top = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if top[2] then expire_in(key, tonumber(top[2]), now) end
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


# ARGV: now, touch interval, then the user id if the session must be that user's.
# Reply: the hash as a flat list, as it is after the touch; nil if missing, expired or
# another user's; 0 if corrupt. One read of the whole hash, then at most two writes, and
# none when the stored last request is less than the interval old (interval 0: always).
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
if ARGV[3] and uid ~= ARGV[3] then return false end
local interval = tonumber(ARGV[2])
if interval > 0 and now - last < interval then return hash end
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

# KEYS: the session.  ARGV: now, its index member, the index key's start ("P u:"), the
# session's "{tag}" ('' for an untagged id).  Reply: {live, uid or '', unindexed}: 1 if a
# live session was deleted; 1 as the last item if it was a tagged session, now also off
# its user's index (same slot, same step), else 0 (the caller cleans a legacy index).
DELETE = _script(
    "delete",
    """
local key = KEYS[1]
if not live_session(key, tonumber(ARGV[1])) then return {0, '', 0} end
local meta = redis.call('HMGET', key, 'uid', 'ix')
redis.call('DEL', key)
if meta[2] and ARGV[4] ~= '' then
  local index = ARGV[3] .. meta[2] .. ARGV[4]
  if index_usable(index) then redis.call('ZREM', index, ARGV[2]) end
  return {1, meta[1] or '', 1}
end
return {1, meta[1] or '', 0}
""",
)

# KEYS: the new tagged session, its user's index.  ARGV: now, ttl_ms, cap ('' for none),
# the new member, its score, the sessions' key start ("P s:"), "{tag}", the user id,
# n_external, (member, last request)..., then the record's field, value, ...  Writes the
# session and indexes it in one step; with a cap, ranks the user's indexed sessions (and
# the ``external`` ones: legacy sessions in another slot) by last request and closes the
# least recently used beyond it. Entries whose session is gone, expired, damaged or
# another user's are dropped, not counted.
# Reply: {evicted members (closed here), external members the caller must close}.
CREATE_INDEXED = _script(
    "create_indexed",
    """
local key, index, now = KEYS[1], KEYS[2], tonumber(ARGV[1])
local n_external = tonumber(ARGV[9])
local at_fields = 10 + 2 * n_external
if redis.call('EXISTS', key) == 1 then redis.call('DEL', key) end
each_chunk('HSET', key, ARGV, at_fields, #ARGV, 500)
redis.call('PEXPIRE', key, ARGV[2])
index_usable(index)
redis.call('ZADD', index, ARGV[5], ARGV[4])
redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[1])
local evicted, external = {}, {}
if ARGV[3] ~= '' then
  local ranked = {}
  for position, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
    if member ~= ARGV[4] then
      local last = member_last(ARGV[6] .. member .. ARGV[7], now, ARGV[8])
      if last then ranked[#ranked + 1] = {member, last, position, true}
      else redis.call('ZREM', index, member) end
    end
  end
  for j = 1, n_external do
    local at = 8 + 2 * j
    ranked[#ranked + 1] = {ARGV[at], tonumber(ARGV[at + 1]), 1e15 + j, false}
  end
  local excess = #ranked + 1 - tonumber(ARGV[3])
  if excess > 0 then
    table.sort(ranked, function(a, b)
      if a[2] ~= b[2] then return a[2] < b[2] end
      return a[3] < b[3]
    end)
    for j = 1, math.min(excess, #ranked) do
      local member = ranked[j][1]
      if ranked[j][4] then
        redis.call('DEL', ARGV[6] .. member .. ARGV[7])
        redis.call('ZREM', index, member)
        evicted[#evicted + 1] = member
      else
        external[#external + 1] = member
      end
    end
  end
end
index_expiry(index, now)
return {evicted, external}
""",
)

# KEYS: a user's index of tagged sessions.  ARGV: now, the sessions' key start, "{tag}".
# Prunes entries whose absolute expiry has passed or whose session is gone, expired or
# damaged (deleting it). Reply: {damaged members, member, hash, member, hash, ...}.
LIST_INDEXED = _script(
    "list_indexed",
    """
local index, now = KEYS[1], tonumber(ARGV[1])
if not index_usable(index) then return {{}} end
redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[1])
local damaged, out = {}, {{}}
for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local key = ARGV[2] .. member .. ARGV[3]
  local expires, why = live_session(key, now)
  if expires then
    out[#out + 1] = member
    out[#out + 1] = redis.call('HGETALL', key)
  else
    redis.call('ZREM', index, member)
    if why == 'corrupt' then damaged[#damaged + 1] = member end
  end
end
out[1] = damaged
return out
""",
)

# KEYS: a user's index of tagged sessions.  ARGV: now, the sessions' key start, "{tag}",
# the user id, the member to keep ('' for none), then address and client filters, each
# '0' (any) or '1' followed by the value.  Closes the matching live sessions and their
# entries in one step, and prunes dead entries. Reply: the closed members.
CLOSE_INDEXED = _script(
    "close_indexed",
    """
local index, now = KEYS[1], tonumber(ARGV[1])
if not index_usable(index) then return {} end
redis.call('ZREMRANGEBYSCORE', index, '-inf', ARGV[1])
local address = ARGV[6] == '1' and ARGV[7] or nil
local at_client = address and 8 or 7
local client = ARGV[at_client] == '1' and ARGV[at_client + 1] or nil
local closed = {}
for _, member in ipairs(redis.call('ZRANGE', index, 0, -1)) do
  local key = ARGV[2] .. member .. ARGV[3]
  if not member_last(key, now, ARGV[4]) then
    redis.call('ZREM', index, member)
  elseif member ~= ARGV[5] then
    local where = redis.call('HMGET', key, 'address', 'client')
    if (not address or where[1] == address) and (not client or where[2] == client) then
      redis.call('DEL', key)
      redis.call('ZREM', index, member)
      closed[#closed + 1] = member
    end
  end
end
return closed
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

# A legacy index.  ARGV: now, cap ('' for none), the new member, its score, n_remove,
# removed members..., then the eviction order (least recently used first).  Adds the
# member; with a cap, picks the members beyond it, in the given order first and then by
# lowest score (members added concurrently, not in the order), never the new one. They
# stay indexed: the caller closes their sessions, then their entries, so a session is
# never alive and unlisted. Reply: the picked members.
INDEX_ADD = _script(
    "index_add",
    """
local key, now = KEYS[1], tonumber(ARGV[1])
index_usable(key)
redis.call('ZADD', key, ARGV[4], ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[1])
local n_remove = tonumber(ARGV[5])
each_chunk('ZREM', key, ARGV, 6, 5 + n_remove, 500)
local picked = {}
if ARGV[2] ~= '' then
  local excess = redis.call('ZCARD', key) - tonumber(ARGV[2])
  local seen = {}
  local function pick(member)
    if excess > 0 and member ~= ARGV[3] and not seen[member] and redis.call('ZSCORE', key, member) then
      seen[member] = true
      picked[#picked + 1] = member
      excess = excess - 1
    end
  end
  for j = 6 + n_remove, #ARGV do pick(ARGV[j]) end
  if excess > 0 then
    for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do pick(member) end
  end
end
index_expiry(key, now)
return picked
""",
)

SCRIPTS = (
    LOAD_AND_TOUCH,
    SAVE_CHANGES,
    CREATE,
    DELETE,
    CREATE_INDEXED,
    LIST_INDEXED,
    CLOSE_INDEXED,
    INDEX_MEMBERS,
    INDEX_REMOVE,
    INDEX_ADD,
)
