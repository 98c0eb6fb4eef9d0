"""Lua scripts of the aggregates capability (see :mod:`.aggregates`).

Every change to a contribution and the totals it moves happens in one
script, so it is atomic with respect to every other app server, and to the
removal scripts, which subtract a session's contributions as they drop it
(:data:`DROP_AGGREGATES`, part of every removal in :mod:`.scripts`).

Rows travel as JSON ``[day text, name, dims field, count, total]``: the
dims field is the JSON of the dims, made once by Python (``orjson``), so
Lua never encodes anything and a total's hash field is the same whoever
wrote it. Totals are ``"<count> <total>"`` with the total printed with 17
significant digits, which reads back as the same double.
"""

from __future__ import annotations

# Add to one total; a total reaching zero is deleted, and the day and name
# index entries with it once nothing is left under them.
_BUMP = """
local function bump(prefix, day, name, field, c, t)
  local tkey = prefix .. 'gt:' .. day .. ':' .. name
  local old = redis.call('HGET', tkey, field)
  if old then
    local sp = string.find(old, ' ', 1, true)
    c = c + tonumber(string.sub(old, 1, sp - 1))
    t = t + tonumber(string.sub(old, sp + 1))
  end
  if c == 0 and t > -1e-9 and t < 1e-9 then
    if old then
      redis.call('HDEL', tkey, field)
      if redis.call('EXISTS', tkey) == 0 then
        local dkey = prefix .. 'gd:' .. name
        redis.call('ZREM', dkey, day)
        if redis.call('EXISTS', dkey) == 0 then
          redis.call('SREM', prefix .. 'gn', name)
        end
      end
    end
    return
  end
  if not old then
    redis.call('ZADD', prefix .. 'gd:' .. name, day, day)
    redis.call('SADD', prefix .. 'gn', name)
  end
  redis.call('HSET', tkey, field, string.format('%d %.17g', c, t))
end

-- Replace rows ``old`` with rows ``new`` in the totals: their difference,
-- summed per total first (a row in both moves nothing).
local function replace(prefix, old, new)
  local slots, order = {}, {}
  local function add(rows, sign)
    for _, r in ipairs(rows) do
      -- NUL cannot be in a day text or a dims field (JSON escapes it), so
      -- the id names one (day, name, dims) whatever the name holds
      local id = r[1] .. '\\0' .. r[2] .. '\\0' .. r[3]
      local slot = slots[id]
      if not slot then
        slot = {r[1], r[2], r[3], 0, 0}
        slots[id] = slot
        order[#order + 1] = slot
      end
      slot[4] = slot[4] + sign * r[4]
      slot[5] = slot[5] + sign * r[5]
    end
  end
  add(old, -1)
  add(new, 1)
  for _, s in ipairs(order) do
    if s[4] ~= 0 or s[5] ~= 0 then
      bump(prefix, s[1], s[2], s[3], s[4], s[5])
    end
  end
end
"""

#: A Lua function for the removal scripts: subtract every contribution of a
#: session from the totals and drop its contributions and facts.
DROP_AGGREGATES = (
    _BUMP
    + """
local function drop_aggregates(prefix, sid)
  local ckey = prefix .. 'gc:' .. sid
  local fields = redis.call('HGETALL', ckey)
  for i = 1, #fields, 2 do
    if string.sub(fields[i], 1, 1) == 'r' then
      replace(prefix, cjson.decode(fields[i + 1]), {})
    end
  end
  redis.call('DEL', ckey, prefix .. 'gf:' .. sid)
  redis.call('ZREM', prefix .. 'gs', sid)
end
"""
)

#: ARGV: prefix, session id, key, version, rows (JSON) -> 1 when the
#: contribution was replaced, 0 when its stored version is as high or the
#: session does not exist.
SET = (
    _BUMP
    + """
local prefix, sid, key = ARGV[1], ARGV[2], ARGV[3]
if not redis.call('ZSCORE', prefix .. 'active', sid) then
  return 0
end
local ckey = prefix .. 'gc:' .. sid
local stored = redis.call('HGET', ckey, 'v' .. key)
if stored and tonumber(stored) >= tonumber(ARGV[4]) then
  return 0
end
local old = redis.call('HGET', ckey, 'r' .. key)
replace(prefix, old and cjson.decode(old) or {}, cjson.decode(ARGV[5]))
redis.call('HSET', ckey, 'v' .. key, ARGV[4], 'r' .. key, ARGV[5])
return 1
"""
)

#: ARGV: prefix, session id, answer ("all" or "version"), then fact key,
#: value (JSON), key, value... -> every field of the facts hash (the
#: version under ``""``) or the new version; nil for an unknown session.
MERGE_FACTS = """
local prefix, sid = ARGV[1], ARGV[2]
if not redis.call('ZSCORE', prefix .. 'active', sid) then
  return false
end
local fkey = prefix .. 'gf:' .. sid
-- in slices: Lua's stack bounds how many arguments one call may take
for i = 4, #ARGV, 1000 do
  redis.call('HSET', fkey, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
local version = redis.call('HINCRBY', fkey, '', 1)
redis.call('ZADD', prefix .. 'gs', 0, sid)
if ARGV[3] == 'all' then
  return redis.call('HGETALL', fkey)
end
return version
"""

#: ARGV: prefix, session id -> every field of the facts hash; nil for an
#: unknown session.
FACTS = """
if not redis.call('ZSCORE', ARGV[1] .. 'active', ARGV[2]) then
  return false
end
return redis.call('HGETALL', ARGV[1] .. 'gf:' .. ARGV[2])
"""

#: ARGV: prefix, key, lower bound ("-" or "(" + id), count -> {scanned,
#: last id scanned, ids...}: of ``count`` sessions with facts from the
#: bound, those whose facts version is above their contribution's under key.
UNFOLDED = """
local prefix, key = ARGV[1], ARGV[2]
local ids = redis.call('ZRANGEBYLEX', prefix .. 'gs', ARGV[3], '+', 'LIMIT', 0, tonumber(ARGV[4]))
local out = {#ids, ids[#ids] or ''}
for _, sid in ipairs(ids) do
  local facts = tonumber(redis.call('HGET', prefix .. 'gf:' .. sid, '') or '0')
  local folded = tonumber(redis.call('HGET', prefix .. 'gc:' .. sid, 'v' .. key) or '0')
  if facts > folded and redis.call('ZSCORE', prefix .. 'active', sid) then
    out[#out + 1] = sid
  end
end
return out
"""
