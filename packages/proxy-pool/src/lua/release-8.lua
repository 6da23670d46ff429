--[[
  Ends a lease and applies what happened to the request. The client sends the outcomes that carry
  no penalty (ok, upstream_fault, client_fault, canceled) to release-plain-1.lua, which touches
  fewer keys; this script handles every outcome.

  The lease, named with its fencing epoch, must still be in the leases set and not have expired;
  otherwise the release is stale and changes nothing (an expired one still found here gives its
  capacity back, as the reclaim in lease would). Outcomes:
    ok                  resets the proxy's consecutive-fault count
    rate_limited        cools the (proxy, host) pair for retryAfterMs (capped) or a jittered
                        exponential backoff over the pair's recent streak; no health penalty
    blocked             scores the pair; the N-th block within the window bans the pair
    proxy_fault         quarantines the proxy everywhere with jittered exponential backoff over
                        its consecutive faults (once per outage: a quarantined proxy's other
                        in-flight faults do not grow it)
    upstream_fault, client_fault, canceled
                        the target's or caller's doing: counted, no penalty

  KEYS[1] leases      zset  "leaseId|epoch|proxyId" -> expiry (ms)
  KEYS[2] timers      zset  "s:<session>" | "h:<host>" -> due time (ms)
  KEYS[3] meta        hash  cap, seq
  KEYS[4] quar        zset  proxyId -> quarantine end
  KEYS[5] hosts       zset  host -> time its exclusion data may be dropped
  KEYS[6] x:<host>    zset  proxyId -> end of the pair's cooldown or ban
  KEYS[7] ban:<host>  zset  proxyId -> end of the pair's ban
  KEYS[8] hs:<host>   hash  "<proxyId>:r" -> "streak|cooldown end", "<proxyId>:b" -> "blocks|first"

  ARGV[1] key prefix        ARGV[2] now (ms) or ""
  ARGV[3] the lease: "leaseId|epoch|proxyId", fenced by its presence in the leases set
  ARGV[4] outcome           ARGV[5] bytes              ARGV[6] host
  Only for rate_limited, blocked and proxy_fault:
  ARGV[7]  retryAfterMs or ""            ARGV[8]  random number in [0, 1)
  ARGV[9]  jitter (0..1)                 ARGV[10] cooldown base (ms)
  ARGV[11] cooldown max (ms)             ARGV[12] cooldown streak resets after (ms)
  ARGV[13] blocks before a ban           ARGV[14] block window (ms)
  ARGV[15] ban duration (ms)             ARGV[16] quarantine base (ms)
  ARGV[17] quarantine max (ms)

  Returns -1 when stale, else the penalty applied in ms (0 for none)
]]
--- @include "clock"
--- @include "availability"
--- @include "backoff"
--- @include "expire-lease"
--- @include "end-lease"

local now = clockMs(ARGV[2])
local outcome = ARGV[4]
local status, pid, pkey, p, inflight = endLease(ARGV[1], KEYS[1], ARGV[3], now, outcome, ARGV[5])
if status ~= 1 then return status end
local max = tonumber(p[1])
local inService = p[4] == '0' and p[5] == '0'

local host = ARGV[6]
local function keepHostUntil(t)
  redis.call('ZADD', KEYS[5], 'GT', t, host)
  redis.call('ZADD', KEYS[2], 'GT', t, 'h:' .. host)
end

local penalty = 0
if outcome == 'ok' then
  if p[6] ~= '0' then redis.call('HSET', pkey, 'faults', 0) end
elseif outcome == 'rate_limited' then
  local rand, jitter = tonumber(ARGV[8]), tonumber(ARGV[9])
  local base, cap, resetAfter = tonumber(ARGV[10]), tonumber(ARGV[11]), tonumber(ARGV[12])
  local field = pid .. ':r'
  local streak, coolingUntil = 1, 0
  local prev = redis.call('HGET', KEYS[8], field)
  if prev then
    local n, lastEnd = string.match(prev, '^(%d+)|(%d+)$')
    n, lastEnd = tonumber(n), tonumber(lastEnd)
    -- a 429 while the pair still cools is the same episode (a request already in flight): no growth
    if lastEnd > now then
      streak, coolingUntil = n, lastEnd
    elseif now - lastEnd <= resetAfter then
      streak = n + 1
    end
  end
  if ARGV[7] ~= '' then
    penalty = math.min(math.max(tonumber(ARGV[7]), 1), cap)
  elseif coolingUntil > 0 then
    penalty = coolingUntil - now
  else
    penalty = backoff(base, cap, streak, jitter, rand)
  end
  if now + penalty < coolingUntil then penalty = coolingUntil - now end
  local untilMs = now + penalty
  redis.call('HSET', KEYS[8], field, streak .. '|' .. int(untilMs))
  redis.call('ZADD', KEYS[6], 'GT', untilMs, pid)
  keepHostUntil(untilMs + resetAfter)
elseif outcome == 'blocked' then
  local banAfter, window, banMs = tonumber(ARGV[13]), tonumber(ARGV[14]), tonumber(ARGV[15])
  local field = pid .. ':b'
  local bannedUntil = tonumber(redis.call('ZSCORE', KEYS[7], pid) or '0')
  if bannedUntil > now then
    -- banned already: a block from a request that was in flight adds nothing
    setAvailability(p[2], pid, inflight, max, inService)
    return 0
  end
  local count, first = 1, now
  local prev = redis.call('HGET', KEYS[8], field)
  if prev then
    local n, f = string.match(prev, '^(%d+)|(%d+)$')
    if now - tonumber(f) <= window then count, first = tonumber(n) + 1, tonumber(f) end
  end
  if count >= banAfter then
    penalty = banMs
    local untilMs = now + banMs
    redis.call('HDEL', KEYS[8], field)
    redis.call('ZADD', KEYS[7], untilMs, pid)
    redis.call('ZADD', KEYS[6], 'GT', untilMs, pid)
    keepHostUntil(untilMs)
  else
    redis.call('HSET', KEYS[8], field, count .. '|' .. int(first))
    keepHostUntil(first + window)
  end
elseif outcome == 'proxy_fault' then
  if p[4] ~= '0' then
    -- draining: out of service already; the count makes an undrain wait for a probe
    redis.call('HINCRBY', pkey, 'faults', 1)
  elseif inService then
    local faults = redis.call('HINCRBY', pkey, 'faults', 1)
    penalty = backoff(tonumber(ARGV[16]), tonumber(ARGV[17]), faults, tonumber(ARGV[9]), tonumber(ARGV[8]))
    local untilMs = now + penalty
    redis.call('HSET', pkey, 'qu', int(untilMs))
    redis.call('ZADD', KEYS[4], untilMs, pid)
    redis.call('HINCRBY', KEYS[3], 'cap', -max)
    inService = false
  end
end

setAvailability(p[2], pid, inflight, max, inService)
return penalty
