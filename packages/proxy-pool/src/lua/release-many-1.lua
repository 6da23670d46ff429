--[[
  Ends several leases in one call, each with an outcome that carries no penalty (ok,
  upstream_fault, client_fault, canceled): release-plain-1.lua for a process's releases issued in
  the same tick. Each lease is fenced on its own: one stale or expired lease in the call is
  answered -1 and changes nothing for the others (an expired one still found here gives its
  capacity back, as in release-plain-1.lua; the second of two releases of one lease in the same
  call is stale). The leases of one proxy are counted on it together: one HMGET and one HSET per
  proxy (plus one HINCRBY per outcome other than ok), and the availability sets are updated with
  one ZADD (and ZREM) per set for the whole call, ending where the releases one after another
  would.

  KEYS[1] leases  zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] key prefix   ARGV[2] now (ms) or ""
  ARGV[3..] three per lease, in order: the lease ("leaseId|epoch|proxyId", fenced by its presence
           in the leases set), its outcome, its bytes (a non-negative integer)

  Returns one number per lease, in order: -1 when stale, else 0 (no penalty)
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"

local prefix = ARGV[1]
local now = clockMs(ARGV[2])
local members = {}
for i = 3, #ARGV, 3 do members[#members + 1] = ARGV[i] end
local expiries = redis.call('ZMSCORE', KEYS[1], unpack(members))

local results, live, seen = {}, {}, {}
for j = 1, #members do
  local member, expiresAt = members[j], expiries[j]
  if not expiresAt or seen[member] then
    results[j] = -1
  elseif tonumber(expiresAt) <= now then
    expireLease(prefix, KEYS[1], member)
    results[j] = -1
  else
    results[j] = 0
    live[#live + 1] = j
  end
  seen[member] = true
end
if #live == 0 then return results end

local gone = {}
for n = 1, #live do gone[n] = members[live[n]] end
redis.call('ZREM', KEYS[1], unpack(gone))

-- per proxy, in first-seen order: the leases that count on it
local order, byProxy = {}, {}
for n = 1, #live do
  local j = live[n]
  local epoch, pid = string.match(members[j], '|(%d+)|([^|]+)$')
  local group = byProxy[pid]
  if not group then
    group = {}
    byProxy[pid] = group
    order[#order + 1] = pid
  end
  group[#group + 1] = {tonumber(epoch), 3 * j}
end

local q = {}
for n = 1, #order do
  local pid = order[n]
  local pkey = prefix .. 'p:' .. pid
  local p = redis.call('HMGET', pkey, 'max', 'zk', 'born', 'drain', 'qu', 'faults', 'granted', 'released', 'bytes')
  if p[1] then
    local born = tonumber(p[3])
    local ended, bytes, outcomes, anyOk = 0, 0, {}, false
    for _, lease in ipairs(byProxy[pid]) do
      -- a lease from before the proxy was removed and re-added changes nothing on it
      if born <= lease[1] then
        local outcome = ARGV[lease[2] + 1]
        ended = ended + 1
        bytes = bytes + tonumber(ARGV[lease[2] + 2])
        if outcome == 'ok' then
          anyOk = true
        else
          outcomes[outcome] = (outcomes[outcome] or 0) + 1
        end
      end
    end
    if ended > 0 then
      -- the counters were read above (the script is atomic): one HSET writes them all; numbers go
      -- to redis.call as strings (see availability.lua)
      local released = tonumber(p[8] or '0') + ended
      local fields = {'released', int(released)}
      if bytes > 0 then
        fields[#fields + 1] = 'bytes'
        fields[#fields + 1] = int(tonumber(p[9] or '0') + bytes)
      end
      if anyOk and p[6] ~= '0' then
        fields[#fields + 1] = 'faults'
        fields[#fields + 1] = '0'
      end
      redis.call('HSET', pkey, unpack(fields))
      for outcome, count in pairs(outcomes) do
        redis.call('HINCRBY', pkey, 'o:' .. outcome, int(count))
      end
      queueAvailability(q, p[2], pid, tonumber(p[7]) - released, tonumber(p[1]), p[4] == '0' and p[5] == '0')
    end
  end
end
flushAvailability(q)
return results
