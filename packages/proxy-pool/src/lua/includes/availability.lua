-- A proxy sits in its availability sets (all proxies, one per tag, one per country: the names are
-- kept in its `zk` field) exactly while it is in service and below maxConcurrency, scored by
-- utilisation in millionths (integer: small sorted sets are listpacks, where Redis re-parses every
-- score on each update, and integers parse several times faster than fractions). A lease therefore
-- reads the least-loaded eligible proxy off the front of one sorted set, and a full, draining or
-- quarantined proxy costs a lease nothing. The score goes to Redis as a string: Redis 7.0 formats
-- a Lua number argument with snprintf("%.17g"), several times slower than "%d".
local function setAvailability(zk, pid, inflight, max, inService)
  if inService and inflight < max then
    local score = string.format('%d', inflight * 1000000 / max)
    for key in string.gmatch(zk, '%S+') do
      redis.call('ZADD', key, score, pid)
    end
  else
    for key in string.gmatch(zk, '%S+') do
      redis.call('ZREM', key, pid)
    end
  end
end

-- The same as setAvailability, queued: `q` maps each `zk` (a proxy's availability sets, as its
-- field holds them) to its members' new scores (false: leave the sets), the last update of a
-- member winning; flushAvailability splits each `zk` once and writes one ZADD and one ZREM per
-- set. For scripts that update many proxies, or one proxy many times. `scores` caches the score
-- strings by (inflight, max): formatting one costs more than the lookup.
local scoreText = {}
local function queueAvailability(q, zk, pid, inflight, max, inService)
  local score = false
  if inService and inflight < max then
    local byMax = scoreText[max]
    if not byMax then
      byMax = {}
      scoreText[max] = byMax
    end
    score = byMax[inflight]
    if not score then
      score = string.format('%d', inflight * 1000000 / max)
      byMax[inflight] = score
    end
  end
  local members = q[zk]
  if not members then
    members = {}
    q[zk] = members
  end
  members[pid] = score
end

local function flushAvailability(q)
  for zk, members in pairs(q) do
    local adds, rems = {}, {}
    for pid, score in pairs(members) do
      if score then
        adds[#adds + 1] = score
        adds[#adds + 1] = pid
      else
        rems[#rems + 1] = pid
      end
    end
    for key in string.gmatch(zk, '%S+') do
      if #adds > 0 then redis.call('ZADD', key, unpack(adds)) end
      if #rems > 0 then redis.call('ZREM', key, unpack(rems)) end
    end
    q[zk] = nil
  end
end
