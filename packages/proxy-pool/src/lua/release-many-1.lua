--[[
  Ends several leases in one call, each with an outcome that carries no penalty (ok,
  upstream_fault, client_fault, canceled): release-plain-1.lua for a process's releases issued in
  the same tick. Each lease is fenced on its own: one stale or expired lease in the call is
  answered -1 and changes nothing for the others (an expired one still found here gives its
  capacity back, as in release-plain-1.lua; the second of two releases of one lease in the same
  call is stale). The outcomes and bytes are counted by the client (ProxyPool's stats).

  A lease still in the leases set belongs to its proxy as it is now: removing a proxy takes its
  leases out of the set (remove-5.lua), so no per-proxy generation check is needed here. The leases
  of one proxy are given back together, and the call reads what it needs for all its proxies at
  once: their scores in the all-proxies set (ZMSCORE: a proxy in service carries its in-flight count
  there, see availability.lua), then writes one ZADD to the all-proxies set; their tag and country
  sets are left behind, named in the `a:behind` set (unless no proxy of the pool has a tag or a
  country), for a constrained lease to catch up (availability.lua). A proxy out of service gives
  back from its `held` count instead. An ok release resets its proxy's consecutive-fault count (the
  `faulty` set names the proxies that have one, usually none).

  KEYS[1] leases  zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] key prefix   ARGV[2] now (ms) or ""
  ARGV[3..] three per lease, in order: the lease ("leaseId|epoch|proxyId", fenced by its
           presence in the leases set), its proxy id (as in the lease), its outcome

  Returns one number per lease, in order: -1 when stale, 0 when its proxy no longer exists (only
  if the pool's keys were changed by hand: removal ends the leases), else 1
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"

local prefix = ARGV[1]
local now = clockMs(ARGV[2])
local members = {}
for i = 3, #ARGV, 3 do members[#members + 1] = ARGV[i] end
-- With no expired lease in the set (the common case), a lease still in it is live: ZREM says
-- whether it was there, one call per lease but no expiry to send back. Otherwise each lease's
-- expiry is looked at, and an expired one gives its capacity back as in reclaim.
local expiries = nil
if redis.call('ZCOUNT', KEYS[1], '-inf', int(now)) > 0 then
  expiries = redis.call('ZMSCORE', KEYS[1], unpack(members))
end

local results, gone, seen = {}, {}, {}
-- per proxy, in first-seen order: how many of its leases end here, and (only when some proxy has
-- consecutive faults to reset) whether one of them was ok
local order, countOf = {}, {}
local okOn = redis.call('EXISTS', prefix .. 'faulty') == 1 and {} or nil
for j = 1, #members do
  local member, live = members[j], false
  if not expiries then
    -- (the second release of one lease in the call finds it gone: stale)
    live = redis.call('ZREM', KEYS[1], member) == 1
  else
    local expiresAt = expiries[j]
    if not expiresAt or seen[member] then
      live = false
    elseif tonumber(expiresAt) <= now then
      expireLease(prefix, KEYS[1], member)
    else
      live = true
      gone[#gone + 1] = member
    end
    seen[member] = true
  end
  if live then
    results[j] = 1
    local a = 3 * j + 1 -- ARGV[a - 1] .. ARGV[a + 1]: member, proxy id, outcome
    local pid = ARGV[a]
    local n = countOf[pid]
    if n then
      countOf[pid] = n + 1
    else
      countOf[pid] = 1
      order[#order + 1] = pid
    end
    if okOn and ARGV[a + 1] == 'ok' then okOn[pid] = true end
  else
    results[j] = -1
  end
end
if #gone > 0 then redis.call('ZREM', KEYS[1], unpack(gone)) end
if #order == 0 then return results end

local scores = redis.call('ZMSCORE', prefix .. 'a', unpack(order))

local adds, named = {}, {}
for n = 1, #order do
  local pid = order[n]
  local ended = countOf[pid]
  local score = tonumber(scores[n])
  if score then
    -- (unpackScore, inlined: this loop runs once per proxy of the call)
    local inflight = score % SLOT
    local max = ((score - inflight) / SLOT) % SLOT
    inflight = inflight - ended
    if inflight < 0 then inflight = 0 end
    local k = #named + 1
    named[k] = pid
    adds[2 * k - 1], adds[2 * k] = packScore(inflight, max), pid
  elseif redis.call('EXISTS', prefix .. 'p:' .. pid) == 1 then
    -- out of service (draining or quarantined): its count is in its hash
    redis.call('HINCRBY', prefix .. 'p:' .. pid, 'held', int(-ended))
  else
    -- (rare: the proxy's keys were changed by hand) its leases in this call answer 0
    for j = 1, #members do
      if results[j] == 1 and ARGV[3 * j + 1] == pid then results[j] = 0 end
    end
  end
  if okOn and okOn[pid] and redis.call('SISMEMBER', prefix .. 'faulty', pid) == 1 then
    redis.call('HSET', prefix .. 'p:' .. pid, 'faults', '0')
    redis.call('SREM', prefix .. 'faulty', pid)
  end
end
flushAvailability(prefix, adds, named)
return results
