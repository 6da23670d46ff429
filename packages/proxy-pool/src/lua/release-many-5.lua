--[[
  Ends leases and applies their outcomes: a lone release, or the releases a process issues in the
  same tick. Each lease is fenced on its own: a stale one (released, expired, its proxy removed,
  or released twice in the call) answers -1 and changes nothing; an expired one still found gives
  its capacity back, as the reclaim in lease would. Outcomes (ProxyPool's stats count them):
    ok            resets the proxy's consecutive-fault count; raises a paced pair's rate by the
                  additive step (at the ceiling the pair is unpaced again)
    rate_limited  cools the (proxy, host) pair for retryAfterMs (capped) or a jittered exponential
                  backoff over the pair's streak (which starts over when the pair succeeded
                  since its last cut: its pace answers); no health penalty. Cuts the pair's
                  rate by the multiplicative factor (an unpaced pair starts at the start rate),
                  once per episode (pacing.lua)
    blocked       scores the pair; the N-th block within the window bans it
    proxy_fault   quarantines the proxy with jittered exponential backoff over its consecutive
                  faults (once per outage)
  Each proxy gives back its leases of the call at once (one ZMSCORE of the all-proxies set for the
  counts, one HMGET of the zk hash for the set names; each proxy's sets written once), then the
  penalties follow in order. A lease in the leases set is its proxy's as it is now: removal takes
  a proxy's leases out.

  KEYS[1] leases  zset  "leaseId|epoch|proxyId" -> expiry (ms)
  KEYS[2] timers  zset  "s:<session>" | "h:<host>" -> due time (ms)
  KEYS[3] meta    hash  cap, seq
  KEYS[4] quar    zset  proxyId -> quarantine end
  KEYS[5] hosts   zset  host -> time its exclusion data may be dropped
  (from ARGV[1]: x:<host> zset proxyId -> end of the pair's cooldown or ban; ban:<host> zset
  proxyId -> end of its ban; hs:<host> hash "<id>:r" -> "streak|cooldown end", "<id>:b" ->
  "blocks|first", "<id>:p" and "*:p" -> "rate|epoch|until|oks" (pacing.lua))

  ARGV[1] key prefix   ARGV[2] now (ms) or ""   ARGV[3] jitter (0..1)   ARGV[4] cooldown base (ms)
  ARGV[5] cooldown max (ms)   ARGV[6] cooldown streak reset (ms)   ARGV[7] blocks before a ban
  ARGV[8] block window (ms)   ARGV[9] ban (ms)   ARGV[10] quarantine base (ms)   ARGV[11] max (ms)
  ARGV[12] pacing start rate (starts/s after a pair's first 429; 0: pacing off)   ARGV[13] floor
  ARGV[14] ceiling (a pair raised to it is unpaced)   ARGV[15] multiplicative decrease (0..1)
  ARGV[16] additive increase per success (starts/s)   ARGV[17] idle time after which pacing lapses
  ARGV[18..] five per lease: the lease ("leaseId|epoch|proxyId"), its outcome, its host,
           retryAfterMs or "", a random number in [0, 1) (the last three for a penalty)

  Returns one number per lease: -1 when stale, -2 when its proxy no longer exists (only if the
  pool's keys were changed by hand), else the penalty applied in ms (0 for none)
]]
--- @include "clock"
--- @include "availability"
--- @include "backoff"
--- @include "expire-lease"
--- @include "pacing"

local prefix, now, jitter = ARGV[1], clockMs(ARGV[2]), tonumber(ARGV[3])
-- proxy id -> true while it is in the faulty set (proxies with consecutive faults: usually none)
local faulty = {}

local function keepHostUntil(host, t)
  redis.call('ZADD', KEYS[5], 'GT', t, host)
  redis.call('ZADD', KEYS[2], 'GT', t, 'h:' .. host)
end

local paceStart, paceMin, paceMax = tonumber(ARGV[12]), tonumber(ARGV[13]), tonumber(ARGV[14])
local paceDown, paceUp, paceIdle = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17])
local paceKeys = {} -- host -> hs:<host> while it exists (where pacing state lives), else false

-- A 429 through a lease granted at `epoch`: the pair's rate is cut (or starts), unless the lease
-- was granted before the last cut (in flight then: the same episode); the host's start rate is
-- renewed. Whether the pair succeeded since its last cut (then the 429 is its pace probing, not
-- a site that still refuses it).
local function paceCut(pid, host, epoch)
  local hsKey = prefix .. 'hs:' .. host
  local rate, cutAt, oks = parsePace(redis.call('HGET', hsKey, pid .. ':p'), now)
  if rate and rate > 0 and epoch <= cutAt then return oks end
  local seq = tonumber(redis.call('HGET', KEYS[3], 'seq') or '0')
  local new = (rate and rate > 0) and math.max(rate * paceDown, paceMin) or paceStart
  setPace(hsKey, pid .. ':p', new, seq, now + paceIdle, false)
  setPace(hsKey, HOST_PACE, paceStart, 0, now + paceIdle, false)
  paceKeys[host] = hsKey
  keepHostUntil(host, now + paceIdle)
  return oks == true
end

-- A success: a paced pair's rate rises by the step; raised to the ceiling it is unpaced (rate 0).
local function paceRaise(pid, host)
  local hsKey = paceKeys[host]
  if hsKey == nil then
    hsKey = prefix .. 'hs:' .. host
    paceKeys[host] = redis.call('EXISTS', hsKey) == 1 and hsKey
  end
  if not paceKeys[host] then return end
  local rate, cutAt = parsePace(redis.call('HGET', hsKey, pid .. ':p'), now)
  if not rate or rate == 0 then return end
  rate = rate + paceUp
  setPace(hsKey, pid .. ':p', rate < paceMax and rate or 0, cutAt, now + paceIdle, true)
  keepHostUntil(host, now + paceIdle)
end

local function rateLimited(pid, host, retryAfter, rand, sustained)
  local base, cap, resetAfter = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
  local scores, field = prefix .. 'hs:' .. host, pid .. ':r'
  local streak, coolingUntil = 1, 0
  local n, lastEnd = string.match(redis.call('HGET', scores, field) or '', '^(%d+)|(%d+)$')
  if n then
    n, lastEnd = tonumber(n), tonumber(lastEnd)
    -- a 429 while the pair still cools is the same episode (a request already in flight): no growth
    if lastEnd > now then
      streak, coolingUntil = n, lastEnd
    elseif now - lastEnd <= resetAfter and not sustained then
      streak = n + 1
    end
  end
  local penalty = 0
  if retryAfter ~= '' then
    penalty = math.min(math.max(tonumber(retryAfter), 1), cap)
  elseif coolingUntil == 0 then
    penalty = backoff(base, cap, streak, jitter, rand)
  end
  penalty = math.max(penalty, coolingUntil - now)
  redis.call('HSET', scores, field, streak .. '|' .. int(now + penalty))
  redis.call('ZADD', prefix .. 'x:' .. host, 'GT', now + penalty, pid)
  keepHostUntil(host, now + penalty + resetAfter)
  return penalty
end

local function blocked(pid, host)
  local banAfter, window, banMs = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
  local scores, bans, field = prefix .. 'hs:' .. host, prefix .. 'ban:' .. host, pid .. ':b'
  -- banned already: a block from a request that was in flight adds nothing
  if tonumber(redis.call('ZSCORE', bans, pid) or '0') > now then return 0 end
  local count, first = 1, now
  local n, f = string.match(redis.call('HGET', scores, field) or '', '^(%d+)|(%d+)$')
  if n and now - tonumber(f) <= window then count, first = tonumber(n) + 1, tonumber(f) end
  if count < banAfter then
    redis.call('HSET', scores, field, count .. '|' .. int(first))
    keepHostUntil(host, first + window)
    return 0
  end
  redis.call('HDEL', scores, field)
  redis.call('ZADD', bans, now + banMs, pid)
  redis.call('ZADD', prefix .. 'x:' .. host, 'GT', now + banMs, pid)
  keepHostUntil(host, now + banMs)
  return banMs
end

local function proxyFault(pid, rand)
  local pkey = prefix .. 'p:' .. pid
  local p = redis.call('HMGET', pkey, 'max', 'zk', 'drain', 'qu', 'held')
  if p[3] == '0' and p[4] ~= '0' then return 0 end -- quarantined already: one outage counts once
  local faults = redis.call('HINCRBY', pkey, 'faults', 1)
  redis.call('SADD', prefix .. 'faulty', pid)
  faulty[pid] = true
  -- draining: out of service already; the count makes an undrain wait for a probe
  if p[3] ~= '0' then return 0 end
  local penalty = backoff(tonumber(ARGV[10]), tonumber(ARGV[11]), faults, jitter, rand)
  redis.call('HSET', pkey, 'qu', int(now + penalty))
  redis.call('ZADD', KEYS[4], now + penalty, pid)
  leaveService(KEYS[3], p[2], pid, pkey, inFlightOf(prefix, pid, true, p[5]), tonumber(p[1]))
  return penalty
end

local members, proxyOf = {}, {}
for j = 1, (#ARGV - 17) / 5 do
  members[j] = ARGV[5 * j + 13]
  proxyOf[j] = string.match(members[j], '|([^|]+)$')
end
expireDue(prefix, KEYS[1], members, now)

-- the leases still in the set are live: how many of each proxy's end, in first-seen order
local results, pids, ended = {}, {}, {}
for j, member in ipairs(members) do
  local pid = proxyOf[j]
  results[j] = redis.call('ZREM', KEYS[1], member) == 1 and 0 or -1
  if results[j] == 0 then
    if not ended[pid] then pids[#pids + 1], ended[pid] = pid, 0 end
    ended[pid] = ended[pid] + 1
  end
end
if #pids == 0 then return results end
local scores = redis.call('ZMSCORE', prefix .. 'a', unpack(pids))
local zks = redis.call('HMGET', prefix .. 'zk', unpack(pids))
for n, pid in ipairs(pids) do
  if scores[n] then
    local inflight, max = unpackScore(scores[n])
    setAvailability(zks[n], pid, math.max(inflight - ended[pid], 0), max)
  elseif redis.call('EXISTS', prefix .. 'p:' .. pid) == 1 then
    redis.call('HINCRBY', prefix .. 'p:' .. pid, 'held', int(-ended[pid]))
  else
    ended[pid] = false
  end
end
if redis.call('EXISTS', prefix .. 'faulty') == 1 then
  local member = redis.call('SMISMEMBER', prefix .. 'faulty', unpack(pids))
  for n, pid in ipairs(pids) do faulty[pid] = member[n] == 1 end
end

-- the outcomes, in order
for j = 1, #members do
  local pid, outcome, a = proxyOf[j], ARGV[5 * j + 14], 5 * j + 15
  if results[j] == 0 and ended[pid] == false then
    results[j] = -2
  elseif results[j] == 0 and outcome == 'ok' then
    if paceStart > 0 then paceRaise(pid, ARGV[a]) end
    if faulty[pid] then
      redis.call('HSET', prefix .. 'p:' .. pid, 'faults', '0')
      redis.call('SREM', prefix .. 'faulty', pid)
      faulty[pid] = false
    end
  elseif results[j] == 0 and outcome == 'rate_limited' then
    local epoch = tonumber(string.match(members[j], '|(%d+)|'))
    local sustained = paceStart > 0 and paceCut(pid, ARGV[a], epoch)
    results[j] = rateLimited(pid, ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2]), sustained)
  elseif results[j] == 0 and outcome == 'blocked' then
    results[j] = blocked(pid, ARGV[a])
  elseif results[j] == 0 and outcome == 'proxy_fault' then
    results[j] = proxyFault(pid, tonumber(ARGV[a + 2]))
  end
end
return results
