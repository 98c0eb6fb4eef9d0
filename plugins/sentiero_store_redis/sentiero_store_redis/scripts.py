"""Lua scripts: removals run inside Redis, so two app servers removing the
same session at once cannot both report it (``ZREM`` on the ``active`` set
answers 1 to exactly one of them) and nothing else runs halfway through.

The scripts build per-session key names from the prefix (``ARGV[1]``) and
the ids, so the store needs a single Redis (or a replicated primary), not
Redis Cluster, where a script may touch only the keys it declares.
"""

from __future__ import annotations

from .aggregate_scripts import DROP_AGGREGATES

# Shared by every script: drop one session entirely, its contributions
# subtracted from the aggregate totals in the same step; 1 when this call
# removed it.
_DROP = (
    DROP_AGGREGATES
    + """
local function drop(prefix, sid)
  if redis.call('ZREM', prefix .. 'active', sid) == 0 then
    return 0
  end
  redis.call('ZREM', prefix .. 'started', sid)
  redis.call('DEL', prefix .. 's:' .. sid, prefix .. 'm:' .. sid,
             prefix .. 'e:' .. sid, prefix .. 'd:' .. sid)
  drop_aggregates(prefix, sid)
  return 1
end
"""
)

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

#: ARGV: prefix, first rank, count, bottom score, filter (JSON) -> {scanned,
#: done, id, summary, id, summary, ...}: of ``count`` sessions from ``first
#: rank`` of the ``started`` index, newest first (ranks: no skipping cost,
#: unlike a LIMIT offset), down to ``bottom`` (inclusive; ``done`` is 1
#: once a score below it or the end of the index is reached), those whose
#: summary may match. A pre-filter: the caller checks what it returns with
#: ``SessionFilter.matches``, so where Lua could disagree with Python (case
#: folding beyond ASCII, a summary cjson cannot read) it keeps the session.
SCAN = """
local prefix = ARGV[1]
local first = tonumber(ARGV[2])
local count = tonumber(ARGV[3])
local bottom = tonumber(ARGV[4])
local f = cjson.decode(ARGV[5])
local entries = redis.call('ZRANGE', prefix .. 'started', first, first + count - 1,
                           'REV', 'WITHSCORES')
local out = {0, 0}
local function ascii(s)
  return type(s) == 'string' and not string.find(s, '[\\128-\\255]')
end
local function contains(hay, needle)
  if hay == nil or hay == cjson.null then
    hay = ''
  end
  if not ascii(hay) or not ascii(needle) then
    return true
  end
  return string.find(string.lower(hay), string.lower(needle), 1, true) ~= nil
end
local function may_match(s)
  if f.has_errors ~= nil and ((tonumber(s.error_count) or 0) > 0) ~= f.has_errors then
    return false
  end
  if f.min_duration_ms ~= nil then
    local d = (tonumber(s.ended_at) or 0) - (tonumber(s.started_at) or 0)
    if d < 0 then d = 0 end
    if d < f.min_duration_ms then return false end
  end
  if f.user_id ~= nil and s.user_id ~= f.user_id then
    return false
  end
  if f.custom_event ~= nil then
    local found = false
    for _, name in ipairs(s.custom_events or {}) do
      if name == f.custom_event then found = true break end
    end
    if not found then return false end
  end
  for _, name in ipairs({'browser', 'device', 'os'}) do
    if f[name] ~= nil and not contains(s[name], f[name]) then
      return false
    end
  end
  if f.url_contains ~= nil then
    local found = false
    for _, page in ipairs(s.pages or {}) do
      if contains(page, f.url_contains) then found = true break end
    end
    if not found then return false end
  end
  return true
end
-- A cheap rejection before decoding: exact values a matching summary
-- holds verbatim, encoded as the store's JSON encodes them.
local function surely_not(raw)
  for _, text in ipairs(f.verbatim or {}) do
    if not string.find(raw, text, 1, true) then return true end
  end
  return false
end
if #entries < 2 * count then
  out[2] = 1
end
for i = 1, #entries, 2 do
  local sid = entries[i]
  if tonumber(entries[i + 1]) < bottom then
    out[2] = 1
    break
  end
  out[1] = out[1] + 1
  local raw = redis.call('GET', prefix .. 's:' .. sid)
  if raw and not surely_not(raw) then
    local ok, s = pcall(cjson.decode, raw)
    if not ok or may_match(s) then
      out[#out + 1] = sid
      out[#out + 1] = raw
    end
  end
end
return out
"""
