--[[
  Leases one proxy for one request to one target host (the selection itself is leaseOne in
  includes/lease-one.lua, shared with lease-many-6.lua).

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
--- @include "leases-set"
--- @include "expire-lease"
--- @include "reclaim"
--- @include "lease-one"

local now = clockMs(ARGV[2])
local tags = {}
for i = 13, #ARGV do tags[#tags + 1] = ARGV[i] end
local c = {
  prefix = ARGV[1], leases = KEYS[1], timers = KEYS[2], meta = KEYS[3], sessions = KEYS[4],
  hosts = KEYS[5], quar = KEYS[7], now = now, reserve = tonumber(ARGV[6]),
  sessionTtl = tonumber(ARGV[8]), retryHint = tonumber(ARGV[10]), pending = 0,
}
local status, a, b = leaseOne(c, {
  lane = ARGV[5], session = ARGV[7], seed = tonumber(ARGV[9]), country = ARGV[12], tags = tags,
  xKey = KEYS[6], xEmpty = false, reclaim = tonumber(ARGV[11]),
})
if status == 0 then return {0, a, b} end
local epoch = redis.call('HINCRBY', KEYS[3], 'seq', '1')
local expiresAt = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], int(expiresAt), ARGV[4] .. '|' .. int(epoch) .. '|' .. a, '+inf', PLACEHOLDER)
return {1, a, b, epoch, expiresAt}
