--[[
  Leases for several requests in one call, in order, each with exactly the rules of lease-7.lua
  (leaseOne in includes/lease-one.lua): a process's leases issued in the same tick go to Redis
  together. Each request gets its own answer: a lease, or its own exhaustion reason.

  Shared within the call (the same result as the leases one after another): expired leases are
  reclaimed first when the caller asks (ARGV[6] > 0; the first request's reclaim), a host's
  exclusion set is looked up once (no cooldowns or bans for it: no ZSCORE per candidate; nothing
  in a lease creates them), the fencing epochs are taken with one HINCRBY (consecutive, in request
  order), the leases go to the leases set with one ZADD at the end (the reserve check counts them
  meanwhile), and the proxies' URLs come from the url column hash with one HMGET.

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
  ARGV[7..] the requests, in order, in runs of requests that differ only in their lease id (the
           client sends consecutive alike requests as one run: fewer arguments to read). A run:
           n (requests in it), lane ("i" | "b"), lease TTL (ms), session key or "", random seed
           (integer; the k-th request of the run, from 0, uses seed + k), host, required country
           or "", required tags (space-separated), then n lease ids (unique, without "|")

  Returns five values per request, in order, in one flat list (cheaper to build and send than a
  list per request): 1, proxyId, proxyUrl, epoch, expiresAt
                  or 0, reason, retryAfterMs, 0, 0 with reason "reserve" | "capacity" | "cooling"
]]
--- @include "clock"
--- @include "availability"
--- @include "leases-set"
--- @include "expire-lease"
--- @include "reclaim"
--- @include "lease-one"

local prefix = ARGV[1]
local now = clockMs(ARGV[2])
local c = {
  prefix = prefix, leases = KEYS[1], timers = KEYS[2], meta = KEYS[3], sessions = KEYS[4],
  hosts = KEYS[5], quar = KEYS[6], now = now, reserve = tonumber(ARGV[3]),
  sessionTtl = tonumber(ARGV[4]), retryHint = tonumber(ARGV[5]), pending = 0,
}
local base = prefix .. 'a'

-- The fast path: a request without constraints, session or exclusions for its host takes the
-- least-utilised proxy of the whole pool, the first member of `base`, whose score carries its
-- counts (availability.lua). leaseOne would read it with ZRANGE and write its new score at once;
-- here the front of the set is read once (`view`, kept in the set's order as leases change scores)
-- and the new scores are queued until a request needs the real sets (flush): one ZADD to the
-- all-proxies set (their tag and country sets are left behind for a constrained lease to catch up:
-- availability.lua). `boundary` is the last member read: members not read sort after it, so the
-- view's first member is the set's first as long as it sorts before the boundary.
local pending = {} -- proxy id -> its new score (text)
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
  local adds, pids, n = {}, {}, 0
  for pid, score in pairs(pending) do
    n = n + 1
    pids[n] = pid
    adds[2 * n - 1], adds[2 * n] = score, pid
  end
  flushAvailability(prefix, adds, pids)
  pending = {}
  view = nil
end

local function readView(want)
  view, vh = {}, 1
  -- the members sharing the front's score (in a large pool usually many: its idle proxies) are
  -- read without their scores, which Redis would format one by one; the rest with theirs
  local first = redis.call('ZRANGE', base, '0', '0', 'WITHSCORES')
  local n = 0
  if first[1] then
    local score = tonumber(first[2])
    local block = redis.call('ZRANGE', base, first[2], first[2], 'BYSCORE', 'LIMIT', '0', int(want))
    for i = 1, #block do view[i] = {score, block[i], false} end
    n = #block
  end
  if n > 0 and n < want then
    local flat = redis.call('ZRANGE', base, int(n), int(want - 1), 'WITHSCORES')
    for i = 1, #flat, 2 do view[#view + 1] = {tonumber(flat[i + 1]), flat[i], false} end
  end
  complete = #view < want
  boundary = view[#view] and {view[#view][1], view[#view][2]}
end

-- The pool's least-utilised proxy with a free slot, taken from the view; nil when the view cannot
-- tell (read it again) and false when there is none. Members read and not moved sort before the
-- boundary; a moved one may have passed it. (The view is read one member longer than the fast
-- requests left, so the boundary member itself is never reached and this check is only a safety
-- net.)
local function front()
  local top = view[vh]
  if not top then return not complete and nil end
  if not complete and top[3] and (top[1] > boundary[1] or (top[1] == boundary[1] and before(boundary[1], boundary[2], top[1], top[2]))) then
    return nil
  end
  if top[1] >= FULL_SCORE then return false end
  return top[2]
end

-- What leaseOne does with the view's first member: one more in flight, its new score queued and
-- the member moved to its new place in the view.
local function take()
  local top = view[vh]
  local pid = top[2]
  local inflight, max = unpackScore(top[1])
  local n = scoreOf(inflight + 1, max)
  pending[pid] = packScore(inflight + 1, max)
  vh = vh + 1 -- (no hole at the front: # must stay the view's length)
  local at = #view + 1
  if complete or n <= boundary[1] then
    -- its place matters: among what the view holds, from the back (a new score is usually the
    -- largest); past the boundary it only has to stay past it, and front() rereads the set then
    while at > vh do
      local prev = view[at - 1]
      if prev[1] < n or (prev[1] == n and before(n, prev[2], n, pid)) then break end
      at = at - 1
    end
  end
  -- the member's entry moves (view[vh - 1] is behind the front now and never read again)
  top[1], top[3] = n, true
  table.insert(view, at, top)
  return pid
end

local function overReserve(lane)
  if lane ~= 'b' then return false end
  local cap = tonumber(redis.call('HGET', KEYS[3], 'cap') or '0')
  if cap == 0 then return false end
  return leaseCount(KEYS[1]) + c.pending >= cap - math.ceil(cap * c.reserve - 1e-9)
end

local reclaimFirst = tonumber(ARGV[6])
local left = 0 -- requests not yet handled
do
  local i = 7
  while i <= #ARGV do
    left = left + tonumber(ARGV[i])
    i = i + 8 + tonumber(ARGV[i])
  end
end
local hostKeys, hostEmpty = {}, {}
local replies, granted = {}, {}
local i = 7
while i <= #ARGV do
  local n, lane, ttl, session, seed = tonumber(ARGV[i]), ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], tonumber(ARGV[i + 4])
  local host, country, tagList = ARGV[i + 5], ARGV[i + 6], ARGV[i + 7]
  local xKey = hostKeys[host]
  if not xKey then
    xKey = prefix .. 'x:' .. host
    hostKeys[host] = xKey
    hostEmpty[host] = redis.call('EXISTS', xKey) == 0
  end
  local xEmpty = hostEmpty[host]
  local plain = xEmpty and session == '' and country == '' and tagList == ''
  for k = 0, n - 1 do
    local status, a, b = 0, nil, nil
    if plain and reclaimFirst == 0 and not overReserve(lane) then
      if not view then readView(left + 2) end
      local pid = front()
      if pid == nil then
        flush()
        readView(left + 2)
        pid = front()
      end
      -- the URL is read for all fast leases at the end
      if pid then status, a, b = 1, take(), false end
    end
    if status == 0 then
      -- everything else (and a pool with nothing free: reclaim, exhaustion answers) as lone leases
      flush()
      local tags = {}
      for tag in string.gmatch(tagList, '%S+') do tags[#tags + 1] = tag end
      status, a, b = leaseOne(c, {
        lane = lane, session = session, seed = seed + k, country = country,
        tags = tags, xKey = xKey, xEmpty = xEmpty, reclaim = reclaimFirst,
      })
    end
    reclaimFirst = 0
    left = left - 1
    if status == 0 then
      local r = #replies
      replies[r + 1], replies[r + 2], replies[r + 3], replies[r + 4], replies[r + 5] = 0, a, b, 0, 0
    else
      local expiresAt = now + ttl
      local r = #replies
      -- b is false for a fast lease: its URL is read for all of them at the end
      replies[r + 1], replies[r + 2], replies[r + 3], replies[r + 4], replies[r + 5] = 1, a, b, 0, expiresAt
      granted[#granted + 1] = {r, ARGV[i + 8 + k], a, expiresAt}
      c.pending = c.pending + 1
    end
  end
  i = i + 8 + n
end
flush()

if #granted > 0 then
  local last = redis.call('HINCRBY', KEYS[3], 'seq', int(#granted))
  local zadd, noUrl, expiryText = {}, {}, {}
  for j = 1, #granted do
    local g = granted[j]
    local epoch = last - #granted + j
    replies[g[1] + 4] = epoch
    local expiry = expiryText[g[4]]
    if not expiry then
      expiry = int(g[4])
      expiryText[g[4]] = expiry
    end
    zadd[#zadd + 1] = expiry
    zadd[#zadd + 1] = g[2] .. '|' .. int(epoch) .. '|' .. g[3]
    if not replies[g[1] + 3] then noUrl[#noUrl + 1] = g[1] end
  end
  zadd[#zadd + 1] = '+inf'
  zadd[#zadd + 1] = PLACEHOLDER
  redis.call('ZADD', KEYS[1], unpack(zadd))
  if #noUrl > 0 then
    local ids = {}
    for j = 1, #noUrl do ids[j] = replies[noUrl[j] + 2] end
    local urls = redis.call('HMGET', prefix .. 'url', unpack(ids))
    for j = 1, #noUrl do replies[noUrl[j] + 3] = urls[j] end
  end
end
return replies
