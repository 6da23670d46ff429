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
  (KEYS[2] and KEYS[6..8] also hold PLACEHOLDER once written, +inf in the zsets: placeholder.lua)

  ARGV[1] key prefix        ARGV[2] now (ms) or ""
  ARGV[3] the lease: "leaseId|epoch|proxyId", fenced by its presence in the leases set
  ARGV[4] outcome           ARGV[5] host
  (the outcome and bytes are counted by the client: ProxyPool's stats)
  Only for rate_limited, blocked and proxy_fault:
  ARGV[6]  retryAfterMs or ""            ARGV[7]  random number in [0, 1)
  ARGV[8]  jitter (0..1)                 ARGV[9] cooldown base (ms)
  ARGV[10] cooldown max (ms)             ARGV[11] cooldown streak resets after (ms)
  ARGV[12] blocks before a ban           ARGV[13] block window (ms)
  ARGV[14] ban duration (ms)             ARGV[15] quarantine base (ms)
  ARGV[16] quarantine max (ms)

  Returns -1 when stale, -2 when its proxy was removed (or re-added) since the lease, else the
  penalty applied in ms (0 for none)
]]
--- @include "clock"
--- @include "availability"
--- @include "backoff"
--- @include "expire-lease"
--- @include "end-lease"
--- @include "placeholder"

local now = clockMs(ARGV[2])
local outcome = ARGV[4]
local prefix = ARGV[1]
local status, pid, pkey, p, inflight, inService = endLease(prefix, KEYS[1], ARGV[3], now)
if status == 0 then return -2 end
if status ~= 1 then return status end
local max = tonumber(p[1])

local host = ARGV[5]
local function keepHostUntil(t)
  redis.call('ZADD', KEYS[5], 'GT', t, host)
  redis.call('ZADD', KEYS[2], 'GT', t, 'h:' .. host, '+inf', PLACEHOLDER)
end

local penalty = 0
if outcome == 'ok' then
  if p[6] ~= '0' then clearFaults(prefix, pid, pkey) end
elseif outcome == 'rate_limited' then
  local rand, jitter = tonumber(ARGV[7]), tonumber(ARGV[8])
  local base, cap, resetAfter = tonumber(ARGV[9]), tonumber(ARGV[10]), tonumber(ARGV[11])
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
  if ARGV[6] ~= '' then
    penalty = math.min(math.max(tonumber(ARGV[6]), 1), cap)
  elseif coolingUntil > 0 then
    penalty = coolingUntil - now
  else
    penalty = backoff(base, cap, streak, jitter, rand)
  end
  if now + penalty < coolingUntil then penalty = coolingUntil - now end
  local untilMs = now + penalty
  redis.call('HSET', KEYS[8], field, streak .. '|' .. int(untilMs), PLACEHOLDER, '')
  redis.call('ZADD', KEYS[6], 'GT', untilMs, pid, '+inf', PLACEHOLDER)
  keepHostUntil(untilMs + resetAfter)
elseif outcome == 'blocked' then
  local banAfter, window, banMs = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
  local field = pid .. ':b'
  local bannedUntil = tonumber(redis.call('ZSCORE', KEYS[7], pid) or '0')
  if bannedUntil > now then
    -- banned already: a block from a request that was in flight adds nothing
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
    redis.call('ZADD', KEYS[7], untilMs, pid, '+inf', PLACEHOLDER)
    redis.call('ZADD', KEYS[6], 'GT', untilMs, pid, '+inf', PLACEHOLDER)
    keepHostUntil(untilMs)
  else
    redis.call('HSET', KEYS[8], field, count .. '|' .. int(first), PLACEHOLDER, '')
    keepHostUntil(first + window)
  end
elseif outcome == 'proxy_fault' then
  if p[4] ~= '0' then
    -- draining: out of service already; the count makes an undrain wait for a probe
    redis.call('HINCRBY', pkey, 'faults', 1)
    redis.call('SADD', prefix .. 'faulty', pid)
  elseif inService then
    local faults = redis.call('HINCRBY', pkey, 'faults', 1)
    redis.call('SADD', prefix .. 'faulty', pid)
    penalty = backoff(tonumber(ARGV[15]), tonumber(ARGV[16]), faults, tonumber(ARGV[8]), tonumber(ARGV[7]))
    local untilMs = now + penalty
    redis.call('HSET', pkey, 'qu', int(untilMs))
    redis.call('ZADD', KEYS[4], untilMs, pid)
    redis.call('HINCRBY', KEYS[3], 'cap', -max)
    leaveService(p[2], pid, pkey, inflight)
  end
end
return penalty
