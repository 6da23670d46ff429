--[[
  Leases for several requests in one call, in order, each with exactly the rules of lease-7.lua
  (leaseOne in includes/lease-one.lua): a process's leases issued in the same tick go to Redis
  together. Each request gets its own answer: a lease, or its own exhaustion reason.

  Shared within the call (the same result as the leases one after another): expired leases are
  reclaimed first when the caller asks (ARGV[6] > 0; the first request's reclaim), a host's
  exclusion set is looked up once (no cooldowns or bans for it: no ZSCORE per candidate; nothing
  in a lease creates them), proxy fields are read once per proxy (until a reclaim changes them),
  the fencing epochs are taken with one HINCRBY (consecutive, in request order) and the leases go
  to the leases set with one ZADD at the end (the reserve check counts them meanwhile).

  KEYS[1] leases    zset  "leaseId|epoch|proxyId" -> expiry (ms)
  KEYS[2] timers    zset  "s:<session>" | "h:<host>" -> due time (ms)
  KEYS[3] meta      hash  cap (capacity in service), seq (epoch counter)
  KEYS[4] sessions  hash  session -> proxyId
  KEYS[5] hosts     zset  host -> time its exclusion data may be dropped
  KEYS[6] quar      zset  proxyId -> quarantine end
  (each request's host exclusion zset, <prefix>x:<host>, is built from ARGV[1])

  ARGV[1]  key prefix, e.g. "sy:{pool}:"
  ARGV[2]  now (ms), or "" for the Redis clock
  ARGV[3]  interactive reserve: share of capacity the batch lane may not use
  ARGV[4]  session TTL (ms)
  ARGV[5]  retry hint when nothing better is known (ms)
  ARGV[6]  expired leases to reclaim first (0: only when a request finds the pool exhausted)
  ARGV[7..] eight per request, in order:
           lease id (unique, without "|"), lane ("i" | "b"), lease TTL (ms), session key or "",
           random seed (integer), host, required country or "", required tags (space-separated)

  Returns one reply per request, in order: {1, proxyId, proxyUrl, epoch, expiresAt}
       or {0, reason, retryAfterMs}, reason "reserve" | "capacity" | "cooling"
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"
--- @include "reclaim"
--- @include "lease-one"

local FIELDS = 8
local prefix = ARGV[1]
local now = clockMs(ARGV[2])
local c = {
  prefix = prefix, leases = KEYS[1], timers = KEYS[2], meta = KEYS[3], sessions = KEYS[4],
  hosts = KEYS[5], quar = KEYS[6], now = now, reserve = tonumber(ARGV[3]),
  sessionTtl = tonumber(ARGV[4]), retryHint = tonumber(ARGV[5]), pending = 0, cache = {},
}
local base = prefix .. 'a'

-- The fast path: a request without constraints, session or exclusions for its host takes the
-- least-utilised proxy of the whole pool, the first member of `base`. leaseOne would read it
-- with ZRANGE 0 0 and write the proxy's new score at once; here the front of the set is read once
-- (`view`, kept in the set's order as leases change scores) and the writes are queued until a
-- request needs the real sets (flush): new scores with one ZADD (and ZREM) per set, `granted`
-- with one HINCRBY per proxy. `boundary` is the last member read: members not read sort after it,
-- so the view's first member is the set's first as long as it sorts before the boundary.
local q, known = {}, {}
-- view[vh..]: {score, member, moved}; `moved` marks a member whose score this call changed
local view, vh, boundary, complete = nil, 1, nil, false

-- (score, member) order of a sorted set: members compare bytewise (Lua's < on strings would use
-- the server's collation locale).
local function before(as, am, bs, bm)
  if as ~= bs then return as < bs end
  if am == bm then return false end
  for i = 1, math.min(#am, #bm) do
    local x, y = string.byte(am, i), string.byte(bm, i)
    if x ~= y then return x < y end
  end
  return #am < #bm
end

local function flush()
  flushAvailability(q)
  for pid, e in pairs(known) do
    if e[5] ~= e[6] then redis.call('HINCRBY', prefix .. 'p:' .. pid, 'granted', int(e[5] - e[6])) end
  end
  known = {}
  view = nil
end

local function readView(want)
  local flat = redis.call('ZRANGE', base, '0', int(want - 1), 'WITHSCORES')
  view, vh = {}, 1
  for i = 1, #flat, 2 do view[#view + 1] = {tonumber(flat[i + 1]), flat[i], false} end
  complete = #view < want
  boundary = view[#view] and {view[#view][1], view[#view][2]}
end

-- The pool's least-utilised proxy, taken from the view; nil when the view cannot tell (read it
-- again) and false when the set is empty. Members read and not moved sort before the boundary;
-- a moved one may have passed it. (The view is read one member longer than the fast requests
-- left, so the boundary member itself is never reached and this check is only a safety net.)
local function front()
  local top = view[vh]
  if not top then return not complete and nil end
  if complete or not top[3] then return top[2] end
  if top[1] > boundary[1] or (top[1] == boundary[1] and before(boundary[1], boundary[2], top[1], top[2])) then
    return nil
  end
  return top[2]
end

-- What leaseOne does once it has chosen pid, with the writes queued. known[pid]: {max, url, zk,
-- released, granted, granted as read}.
local function take(pid)
  local e = known[pid]
  if not e then
    local p = redis.call('HMGET', prefix .. 'p:' .. pid, 'max', 'url', 'zk', 'released', 'granted')
    local granted = tonumber(p[5])
    e = {tonumber(p[1]), p[2], p[3], tonumber(p[4]), granted, granted}
    known[pid] = e
  end
  e[5] = e[5] + 1
  local inflight, max = e[5] - e[4], e[1]
  vh = vh + 1 -- (no hole at the front: # must stay the view's length)
  queueAvailability(q, e[3], pid, inflight, max, true)
  if inflight < max then
    local n, at = inflight * 1000000 / max, #view + 1
    n = n - n % 1
    if complete or n <= boundary[1] then
      -- its place matters: among what the view holds, from the back (a new score is usually the
      -- largest); past the boundary it only has to stay past it, and front() rereads the set then
      while at > vh do
        local prev = view[at - 1]
        if prev[1] < n or (prev[1] == n and before(n, prev[2], n, pid)) then break end
        at = at - 1
      end
    end
    table.insert(view, at, {n, pid, true})
  end
  return e[2]
end

local function overReserve(lane)
  if lane ~= 'b' then return false end
  local cap = tonumber(redis.call('HGET', KEYS[3], 'cap') or '0')
  if cap == 0 then return false end
  return redis.call('ZCARD', KEYS[1]) + c.pending >= cap - math.ceil(cap * c.reserve - 1e-9)
end

local reclaimFirst = tonumber(ARGV[6])
local hostEmpty = {}
local replies, granted = {}, {}
for i = 7, #ARGV, FIELDS do
  local lane, session, host, country, tagList = ARGV[i + 1], ARGV[i + 3], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local xKey = prefix .. 'x:' .. host
  local xEmpty = hostEmpty[host]
  if xEmpty == nil then
    xEmpty = redis.call('EXISTS', xKey) == 0
    hostEmpty[host] = xEmpty
  end
  local status, a, b = 0, nil, nil
  if reclaimFirst == 0 and xEmpty and session == '' and country == '' and tagList == '' and not overReserve(lane) then
    if not view then readView(math.floor((#ARGV - i) / FIELDS) + 2) end
    local pid = front()
    if pid == nil then
      flush()
      readView(math.floor((#ARGV - i) / FIELDS) + 2)
      pid = front()
    end
    if pid then status, a, b = 1, pid, take(pid) end
  end
  if status == 0 then
    -- everything else (and a pool with nothing free: reclaim, exhaustion answers) as lone leases
    flush()
    local tags = {}
    for tag in string.gmatch(tagList, '%S+') do tags[#tags + 1] = tag end
    status, a, b = leaseOne(c, {
      lane = lane, session = session, seed = tonumber(ARGV[i + 4]), country = country,
      tags = tags, xKey = xKey, xEmpty = xEmpty, reclaim = reclaimFirst,
    })
  end
  reclaimFirst = 0
  if status == 0 then
    replies[#replies + 1] = {0, a, b}
  else
    local expiresAt = now + tonumber(ARGV[i + 2])
    replies[#replies + 1] = {1, a, b, 0, expiresAt}
    granted[#granted + 1] = {#replies, ARGV[i], a, expiresAt}
    c.pending = c.pending + 1
  end
end
flush()

if #granted > 0 then
  local last = redis.call('HINCRBY', KEYS[3], 'seq', int(#granted))
  local zadd = {}
  for j = 1, #granted do
    local g = granted[j]
    local epoch = last - #granted + j
    replies[g[1]][4] = epoch
    zadd[#zadd + 1] = int(g[4])
    zadd[#zadd + 1] = g[2] .. '|' .. int(epoch) .. '|' .. g[3]
  end
  redis.call('ZADD', KEYS[1], unpack(zadd))
end
return replies
