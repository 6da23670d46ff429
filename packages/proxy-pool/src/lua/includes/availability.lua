-- A proxy in service (not draining, not quarantined) is in each of its availability sets (all
-- proxies, one per tag, one per country: its `zk`) with its in-flight count in the score:
--   score = (utilisation * SLOT + max) * SLOT + inflight
-- utilisation = inflight / max in millionths, capped at FULL; max and inflight are below SLOT, so
-- the score is an exact integer and the sets sort by utilisation, full proxies last (score >=
-- FULL_SCORE). Every change of the count writes all the proxy's sets, so they always agree. Out
-- of service it is in none of them, its count is its hash's `held` and its max is not in `cap`.
-- Scores go to Redis as strings (Redis 7.0 formats a Lua number with "%.17g").
local SLOT, FULL = 16384, 1000000
local FULL_SCORE = FULL * SLOT * SLOT

local function packScore(inflight, max)
  local u = FULL
  if inflight < max then u = math.floor(inflight * FULL / max) end
  return string.format('%d', (u * SLOT + max) * SLOT + inflight)
end

-- inflight, max of a score (a number or Redis's string)
local function unpackScore(score)
  score = tonumber(score)
  local inflight = score % SLOT
  return inflight, ((score - inflight) / SLOT) % SLOT
end

local function setAvailability(zk, pid, inflight, max)
  local score = packScore(inflight, max)
  for key in string.gmatch(zk, '%S+') do redis.call('ZADD', key, score, pid) end
end

-- Takes a proxy out of service: out of its sets and of the capacity, its count kept in its hash.
local function leaveService(metaKey, zk, pid, pkey, inflight, max)
  for key in string.gmatch(zk, '%S+') do redis.call('ZREM', key, pid) end
  redis.call('HSET', pkey, 'held', string.format('%d', inflight))
  redis.call('HINCRBY', metaKey, 'cap', -max)
end

-- Puts a proxy back in service with the count its hash held.
local function enterService(metaKey, zk, pid, pkey, max)
  local held = tonumber(redis.call('HGET', pkey, 'held') or '0')
  redis.call('HSET', pkey, 'held', '0')
  redis.call('HINCRBY', metaKey, 'cap', max)
  setAvailability(zk, pid, held, max)
end

-- A proxy's in-flight count: from its score while in service, else from its hash's `held`.
local function inFlightOf(prefix, pid, inService, held)
  local score = inService and redis.call('ZSCORE', prefix .. 'a', pid)
  if score then return (unpackScore(score)) end
  return tonumber(held or '0')
end
