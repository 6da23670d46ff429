--[[
  Leases one proxy for one request to one target host.

  Selection: the candidate set is the smallest of the availability sets the constraints name
  (all proxies, a tag's, a country's); the other constraints are O(1) membership checks. Only
  proxies in service with a free slot are in these sets, scored by utilisation. A candidate is
  skipped while its (proxy, host) pair cools or is banned. The first HEAD candidates (least
  utilised) are checked one by one; usually the first one wins. When they all cool for this host,
  pages of PAGE candidates are checked with one ZMSCORE each: in order through the whole set when
  it has at most SCAN_LIMIT members (exact: the least-utilised eligible proxy wins), else at
  SCAN_LIMIT / PAGE random offsets. Cost: O(log n) in pool size for a host without cooldowns,
  bounded by SCAN_LIMIT checks for one that cools almost everywhere; only a set larger than
  SCAN_LIMIT where nearly every proxy cools for the host can answer "cooling" while an eligible
  proxy exists, and its retry hint says when to look again.

  Expired leases are reclaimed here in batches when the caller asks (ARGV[11] > 0), and always
  before answering exhausted.

  KEYS[1] leases    zset  "leaseId|epoch|proxyId" -> expiry (ms)
  KEYS[2] timers    zset  "s:<session>" | "h:<host>" -> due time (ms)
  KEYS[3] meta      hash  cap (capacity in service), seq (epoch counter)
  KEYS[4] sessions  hash  session -> proxyId
  KEYS[5] hosts     zset  host -> time its exclusion data may be dropped
  KEYS[6] x:<host>  zset  proxyId -> end of the pair's cooldown or ban
  KEYS[7] quar      zset  proxyId -> quarantine end

  ARGV[1]  key prefix, e.g. "sy:{pool}:"
  ARGV[2]  now (ms), or "" for the Redis clock
  ARGV[3]  lease TTL (ms)
  ARGV[4]  lease id (unique, chosen by the caller, without "|")
  ARGV[5]  lane: "i" interactive | "b" batch
  ARGV[6]  interactive reserve: share of capacity the batch lane may not use
  ARGV[7]  sticky session key, or ""
  ARGV[8]  session TTL (ms)
  ARGV[9]  random seed (integer)
  ARGV[10] retry hint when nothing better is known (ms)
  ARGV[11] expired leases to reclaim first (0: only when the pool looks exhausted)
  ARGV[12] required country, or ""
  ARGV[13..] required tags (all of them)

  Returns {1, proxyId, proxyUrl, epoch, expiresAt}
       or {0, reason, retryAfterMs}, reason "reserve" | "capacity" | "cooling"
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"
--- @include "reclaim"

local HEAD, PAGE, SCAN_LIMIT, RECLAIM_ON_EXHAUSTION = 4, 64, 1024, 64

local prefix = ARGV[1]
local now = clockMs(ARGV[2])
local session = ARGV[7]
local retryHint = tonumber(ARGV[10])

local reclaimed = false
if ARGV[11] ~= '0' then
  reclaim(prefix, KEYS[1], KEYS[2], KEYS[4], KEYS[5], now, tonumber(ARGV[11]))
  reclaimed = true
end

local function overReserve()
  if ARGV[5] ~= 'b' then return false end
  local cap = tonumber(redis.call('HGET', KEYS[3], 'cap') or '0')
  if cap == 0 then return false end -- nothing in service: "capacity" says it better
  local reserved = math.ceil(cap * tonumber(ARGV[6]) - 1e-9)
  return redis.call('ZCARD', KEYS[1]) >= cap - reserved
end

local base = prefix .. 'a'
local extra = {}
if ARGV[12] ~= '' or #ARGV > 12 then
  local sets = {}
  if ARGV[12] ~= '' then sets[1] = prefix .. 'a:c:' .. ARGV[12] end
  for i = 13, #ARGV do sets[#sets + 1] = prefix .. 'a:t:' .. ARGV[i] end
  local best, bestCard = 1, -1
  for i = 1, #sets do
    local card = redis.call('ZCARD', sets[i])
    if bestCard < 0 or card < bestCard then best, bestCard = i, card end
  end
  base = sets[best]
  for i = 1, #sets do
    if i ~= best then extra[#extra + 1] = sets[i] end
  end
end

local xKey = KEYS[6]
local soonest = nil
local function cooling(untilMs)
  untilMs = tonumber(untilMs)
  if untilMs > now then
    if soonest == nil or untilMs < soonest then soonest = untilMs end
    return true
  end
  return false
end

local function eligible(pid)
  for i = 1, #extra do
    if not redis.call('ZSCORE', extra[i], pid) then return false end
  end
  local untilMs = redis.call('ZSCORE', xKey, pid)
  return not (untilMs and cooling(untilMs))
end

-- The first eligible member of base[from .. from + PAGE - 1], with one ZMSCORE per set.
local function scanPage(from)
  local members = redis.call('ZRANGE', base, from, from + PAGE - 1)
  if #members == 0 then return nil end
  local ok = {}
  for i = 1, #members do ok[i] = true end
  for e = 1, #extra do
    local found = redis.call('ZMSCORE', extra[e], unpack(members))
    for i = 1, #members do
      if not found[i] then ok[i] = false end
    end
  end
  local untils = redis.call('ZMSCORE', xKey, unpack(members))
  for i = 1, #members do
    if ok[i] and not (untils[i] and cooling(untils[i])) then return members[i] end
  end
  return nil
end

local function choose()
  if session ~= '' then
    local pid = redis.call('HGET', KEYS[4], session)
    if pid and redis.call('ZSCORE', base, pid) and eligible(pid) then return pid end
  end
  -- the least-utilised candidate alone first: it is almost always the answer
  local first = redis.call('ZRANGE', base, '0', '0')[1]
  if not first then return nil end
  if eligible(first) then return first end
  local head = redis.call('ZRANGE', base, 1, HEAD - 1)
  for i = 1, #head do
    if eligible(head[i]) then return head[i] end
  end
  if #head < HEAD - 1 then return nil end
  local n = redis.call('ZCARD', base)
  if n - HEAD <= SCAN_LIMIT then
    for from = HEAD, n - 1, PAGE do
      local pid = scanPage(from)
      if pid then return pid end
    end
    return nil
  end
  math.randomseed(tonumber(ARGV[9]))
  for _ = 1, SCAN_LIMIT / PAGE do
    local pid = scanPage(math.random(HEAD, n - PAGE))
    if pid then return pid end
  end
  return nil
end

local reserveHit = overReserve()
local chosen = nil
if not reserveHit then chosen = choose() end
if not chosen and not reclaimed and redis.call('ZCOUNT', KEYS[1], '-inf', now) > 0 then
  -- expired leases may be holding the capacity we lack: reclaim, then look again
  reclaim(prefix, KEYS[1], KEYS[2], KEYS[4], KEYS[5], now, RECLAIM_ON_EXHAUSTION)
  soonest = nil
  reserveHit = overReserve()
  if not reserveHit then chosen = choose() end
end

if reserveHit then return {0, 'reserve', retryHint} end
if not chosen then
  if soonest then return {0, 'cooling', math.max(1, soonest - now)} end
  local retry = retryHint
  if tonumber(redis.call('HGET', KEYS[3], 'cap') or '0') == 0 then
    -- nothing in service: the earliest quarantine end is when a probe may bring capacity back
    local q = redis.call('ZRANGE', KEYS[7], 0, 0, 'WITHSCORES')
    if q[2] and tonumber(q[2]) - now > retry then retry = tonumber(q[2]) - now end
  end
  return {0, 'capacity', retry}
end

-- numbers go to redis.call as strings: see availability.lua
local pkey = prefix .. 'p:' .. chosen
local granted = redis.call('HINCRBY', pkey, 'granted', '1')
local p = redis.call('HMGET', pkey, 'max', 'url', 'zk', 'released')
setAvailability(p[3], chosen, granted - tonumber(p[4]), tonumber(p[1]), true)
local epoch = redis.call('HINCRBY', KEYS[3], 'seq', '1')
local expiresAt = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], int(expiresAt), ARGV[4] .. '|' .. int(epoch) .. '|' .. chosen)
if session ~= '' then
  redis.call('HSET', KEYS[4], session, chosen)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[8]), 's:' .. session)
end
return {1, chosen, p[2], epoch, expiresAt}
