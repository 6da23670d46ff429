-- Where a proxy's in-flight count lives. A proxy in service (not draining, not quarantined) is a
-- member of its availability sets (all proxies, one per tag, one per country: the names are kept
-- in its `zk` field and in the `zk` column hash) and its in-flight count is packed into its score
-- there, the same score in every set:
--
--   score = (utilisation * SLOT + max) * SLOT + inflight
--
-- utilisation is inflight / max in millionths, capped at FULL (1,000,000: no free slot), max is
-- its maxConcurrency (< SLOT) and inflight its leases in flight (< SLOT). Every part is an integer
-- and the whole stays below 2^53, so the score is exact; sets sort by utilisation first, full
-- proxies last (scores >= FULL_SCORE). A lease therefore reads the least-loaded proxy and its
-- counts off the front of one sorted set and writes one new score: no other key of the proxy is
-- touched. A proxy out of service is in none of these sets and keeps its in-flight count in the
-- `held` field of its hash until it comes back.
--
-- Scores go to Redis as strings: Redis 7.0 formats a Lua number argument with
-- snprintf("%.17g"), several times slower than "%d".
local SLOT, FULL = 16384, 1000000
local FULL_SCORE = FULL * SLOT * SLOT

-- The score for (inflight, max) as a number (for comparisons; Redis gets packScore's text).
local function scoreOf(inflight, max)
  local u = FULL
  if inflight < max then
    u = inflight * FULL / max
    u = u - u % 1
  end
  return (u * SLOT + max) * SLOT + inflight
end

local scoreText = {}
-- The score string for (inflight, max), cached: formatting one costs more than the lookup.
local function packScore(inflight, max)
  local byMax = scoreText[max]
  if not byMax then
    byMax = {}
    scoreText[max] = byMax
  end
  local text = byMax[inflight]
  if not text then
    text = string.format('%d', scoreOf(inflight, max))
    byMax[inflight] = text
  end
  return text
end

-- inflight, max of a score (a number or the string Redis answers)
local function unpackScore(score)
  score = tonumber(score)
  local inflight = score % SLOT
  local rest = (score - inflight) / SLOT
  return inflight, rest % SLOT
end

-- Writes a proxy in service with `inflight` leases into each of its sets.
local function setAvailability(zk, pid, inflight, max)
  local score = packScore(inflight, max)
  for key in string.gmatch(zk, '%S+') do
    redis.call('ZADD', key, score, pid)
  end
end

-- Takes a proxy out of service: out of its sets, its in-flight count kept in its hash.
local function leaveService(zk, pid, pkey, inflight)
  for key in string.gmatch(zk, '%S+') do
    redis.call('ZREM', key, pid)
  end
  redis.call('HSET', pkey, 'held', string.format('%d', inflight))
end

-- Puts a proxy back in service with the in-flight count its hash held.
local function enterService(zk, pid, pkey, max)
  local held = tonumber(redis.call('HGET', pkey, 'held') or '0')
  redis.call('HSET', pkey, 'held', '0')
  setAvailability(zk, pid, held, max)
  return held
end

-- A proxy's in-flight count: from its score while in service, else from its hash's `held`.
local function inFlightOf(prefix, pid, inService, held)
  if inService then
    local score = redis.call('ZSCORE', prefix .. 'a', pid)
    if score then return (unpackScore(score)) end
  end
  return tonumber(held or '0')
end

-- setAvailability, queued: `q` maps each `zk` to its members' new scores (the last update of a
-- member winning); flushAvailability splits each `zk` once and writes one ZADD per set. For
-- scripts that update many proxies, or one proxy many times.
local function queueAvailability(q, zk, pid, inflight, max)
  local members = q[zk]
  if not members then
    members = {}
    q[zk] = members
  end
  members[pid] = packScore(inflight, max)
end

local function flushAvailability(q)
  for zk, members in pairs(q) do
    local adds = {}
    for pid, score in pairs(members) do
      adds[#adds + 1] = score
      adds[#adds + 1] = pid
    end
    if #adds > 0 then
      for key in string.gmatch(zk, '%S+') do
        redis.call('ZADD', key, unpack(adds))
      end
    end
    q[zk] = nil
  end
end

-- Gives `n` slots of a proxy back: from its score while in service, else from its `held` count.
-- Returns its in-flight count after.
local function giveBack(prefix, pid, pkey, zk, max, inService, n)
  if inService then
    local score = redis.call('ZSCORE', prefix .. 'a', pid)
    if score then
      local inflight = unpackScore(score) - n
      if inflight < 0 then inflight = 0 end
      setAvailability(zk, pid, inflight, max)
      return inflight
    end
  end
  return redis.call('HINCRBY', pkey, 'held', string.format('%d', -n))
end
