"""Lua scripts: removals run inside Redis, so two app servers removing the
same session at once cannot both report it (``ZREM`` on the ``active`` set
answers 1 to exactly one of them) and nothing else runs halfway through.

The scripts build per-session key names from the prefix (``ARGV[1]``) and
the ids, so the store needs a single Redis (or a replicated primary), not
Redis Cluster, where a script may touch only the keys it declares.
"""

from __future__ import annotations

# Shared by every script: drop one session entirely; 1 when this call removed it.
_DROP = """
local function drop(prefix, sid)
  if redis.call('ZREM', prefix .. 'active', sid) == 0 then
    return 0
  end
  redis.call('ZREM', prefix .. 'started', sid)
  redis.call('DEL', prefix .. 's:' .. sid, prefix .. 'm:' .. sid,
             prefix .. 'e:' .. sid, prefix .. 'd:' .. sid)
  return 1
end
"""

#: ARGV: prefix, session ids... -> the ids removed by this call.
REMOVE = (
    _DROP
    + """
local removed = {}
for i = 2, #ARGV do
  if drop(ARGV[1], ARGV[i]) == 1 then
    removed[#removed + 1] = ARGV[i]
  end
end
return removed
"""
)

#: ARGV: prefix, before (ms), most -> ids of up to ``most`` sessions whose
#: ended_at is strictly below ``before``, removed by this call.
PURGE = (
    _DROP
    + """
local ids = redis.call('ZRANGE', ARGV[1] .. 'active', '-inf', '(' .. ARGV[2],
                       'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local removed = {}
for _, sid in ipairs(ids) do
  if drop(ARGV[1], sid) == 1 then
    removed[#removed + 1] = sid
  end
end
return removed
"""
)

#: ARGV: prefix, max_sessions -> the ids evicted: the oldest by last
#: activity (ended_at, then id, which is the sorted set's own order).
EVICT = (
    _DROP
    + """
local excess = redis.call('ZCARD', ARGV[1] .. 'active') - tonumber(ARGV[2])
local removed = {}
if excess <= 0 then
  return removed
end
local ids = redis.call('ZRANGE', ARGV[1] .. 'active', 0, excess - 1)
for _, sid in ipairs(ids) do
  if drop(ARGV[1], sid) == 1 then
    removed[#removed + 1] = sid
  end
end
return removed
"""
)
