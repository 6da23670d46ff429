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
local reclaimFirst = tonumber(ARGV[6])
local hostEmpty = {}
local replies, granted = {}, {}
for i = 7, #ARGV, FIELDS do
  local host = ARGV[i + 5]
  local xKey = prefix .. 'x:' .. host
  local xEmpty = hostEmpty[host]
  if xEmpty == nil then
    xEmpty = redis.call('EXISTS', xKey) == 0
    hostEmpty[host] = xEmpty
  end
  local tags = {}
  for tag in string.gmatch(ARGV[i + 7], '%S+') do tags[#tags + 1] = tag end
  local status, a, b = leaseOne(c, {
    lane = ARGV[i + 1], session = ARGV[i + 3], seed = tonumber(ARGV[i + 4]), country = ARGV[i + 6],
    tags = tags, xKey = xKey, xEmpty = xEmpty, reclaim = reclaimFirst,
  })
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
