--[[
  Leases for one or more requests, in order: a lone lease, or the leases a process issues in the
  same tick. Each request runs leaseOne (includes/lease-one.lua, the pool's one selector) and gets
  its own answer, so a batch answers as the same requests one call each would. Shared by the call:
  a reclaim first (ARGV[6] > 0), one EXISTS per host for its exclusion set (no lease creates one),
  one HINCRBY for the fencing epochs (consecutive, in request order) and one ZADD of the leases at
  the end (the reserve check counts them meanwhile).

  KEYS[1] leases    zset  "leaseId|epoch|proxyId" -> expiry (ms)
  KEYS[2] timers    zset  "s:<session>" | "h:<host>" -> due time (ms)
  KEYS[3] meta      hash  cap (capacity in service), seq (epoch counter)
  KEYS[4] sessions  hash  session -> proxyId
  KEYS[5] hosts     zset  host -> time its exclusion data may be dropped
  KEYS[6] quar      zset  proxyId -> quarantine end
  (a request's host keys, <prefix>x:<host> (exclusions), hs:<host> (pacing) and ban:<host>, are
  built from ARGV[1]; a lease of a paced pair moves the pair's next allowed start on, in x:<host>)

  ARGV[1] key prefix, e.g. "sy:{pool}:"   ARGV[2] now (ms), or "" for the Redis clock
  ARGV[3] interactive reserve: share of capacity the batch lane may not use
  ARGV[4] session TTL (ms)   ARGV[5] retry hint when nothing better is known (ms)
  ARGV[6] expired leases to reclaim first (0: only when a request finds the pool exhausted)
  ARGV[7..] runs of requests that differ only in their lease id: n, lane ("i" | "b"), lease TTL
           (ms), session or "", random seed (the run's k-th request, from 0, uses seed + k), host,
           country or "", tags (space-separated), then n lease ids (unique, without "|")

  Returns six values per request, in one flat list: 1, proxyId, proxyUrl, epoch, expiresAt,
  pricePerGbUsd, or 0, reason ("reserve" | "capacity" | "cooling"), retryAfterMs, 0, 0, 0
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"
--- @include "reclaim"
--- @include "pacing"
--- @include "lease-one"

local prefix, now = ARGV[1], clockMs(ARGV[2])
local c = {
  prefix = prefix, leases = KEYS[1], timers = KEYS[2], meta = KEYS[3], sessions = KEYS[4],
  hosts = KEYS[5], quar = KEYS[6], now = now, reserve = tonumber(ARGV[3]),
  sessionTtl = tonumber(ARGV[4]), retryHint = tonumber(ARGV[5]), pending = 0,
}
if ARGV[6] ~= '0' then reclaim(prefix, KEYS[1], KEYS[2], KEYS[4], KEYS[5], now, tonumber(ARGV[6])) end
local hostEmpty = {} -- host -> true when it has no exclusion set
local replies, granted = {}, {} -- granted: {index of the epoch in replies, lease id, proxy id, expiry}
local i = 7
while i <= #ARGV do
  local n, ttl, host = tonumber(ARGV[i]), tonumber(ARGV[i + 2]), ARGV[i + 5]
  local xKey = prefix .. 'x:' .. host
  if hostEmpty[host] == nil then hostEmpty[host] = redis.call('EXISTS', xKey) == 0 end
  local r = { lane = ARGV[i + 1], session = ARGV[i + 3], country = ARGV[i + 6], tags = {} }
  r.xKey, r.xEmpty = xKey, hostEmpty[host]
  r.hsKey, r.banKey = prefix .. 'hs:' .. host, prefix .. 'ban:' .. host
  for tag in string.gmatch(ARGV[i + 7], '%S+') do r.tags[#r.tags + 1] = tag end
  for k = 0, n - 1 do
    r.seed = tonumber(ARGV[i + 4]) + k
    local status, a, b, price = leaseOne(c, r)
    local at = #replies
    replies[at + 1], replies[at + 2], replies[at + 3] = status, a, b
    replies[at + 4], replies[at + 5], replies[at + 6] = 0, 0, 0
    if status == 1 then
      replies[at + 5], replies[at + 6] = now + ttl, price
      granted[#granted + 1] = {at + 4, ARGV[i + 8 + k], a, now + ttl}
      c.pending = c.pending + 1
    end
  end
  i = i + 8 + n
end

if #granted > 0 then
  local first = redis.call('HINCRBY', KEYS[3], 'seq', int(#granted)) - #granted
  local zadd = {}
  for j, g in ipairs(granted) do
    replies[g[1]] = first + j
    zadd[2 * j - 1], zadd[2 * j] = int(g[4]), g[2] .. '|' .. int(first + j) .. '|' .. g[3]
  end
  redis.call('ZADD', KEYS[1], unpack(zadd))
end
return replies
