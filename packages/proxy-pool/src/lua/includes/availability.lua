-- Where a proxy's in-flight count lives. A proxy in service (not draining, not quarantined) is a
-- member of its availability sets (all proxies, one per tag, one per country: the names are kept
-- in its `zk` field and in the `zk` column hash) and its in-flight count is packed into its score
-- there, the same score in every set (but for the lag described below):
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
--
-- The all-proxies set (`<prefix>a`, always the first name in `zk`) is exact at all times. A proxy's
-- other sets (its tags', its country's) may lag behind it: the batched scripts (lease-many,
-- release-many) write the new scores to the all-proxies set only and name the proxies they wrote in
-- the `a:behind` set (catchUp below brings their other sets up to date). They name every proxy they
-- wrote, without reading which sets it is in, unless no proxy of the pool has a tag or a country
-- (anyTagged below): a proxy named without other sets costs the catch-up a skip. Only a lease with
-- a tag or country constraint reads the other sets' scores, and it catches up first; membership is
-- always exact (a count change never adds or removes a member), and every other write
-- (setAvailability, leaveService) writes or removes all the sets at once. So an unconstrained
-- lease+release pays one sorted-set update per proxy instead of one per set, and a proxy leased and
-- released many times between two constrained leases is caught up once. A proxy named in `a:behind`
-- that has left service since is skipped by catchUp (it is in none of the sets, and its exact score
-- is gone); one written in full since is simply written again. The cost moves to the constrained
-- leases: catching up one proxy (naming it, reading its score and set names, then writing its other
-- sets) costs about three times what writing its other sets at once would. A pool whose leases are
-- mostly unconstrained pays much less than with every set written at once; one whose every lease is
-- constrained pays somewhat more (measured in docs/benchmarks.md, 2026-12-04).
--
-- `a:behind` holds PLACEHOLDER (placeholder.lua): a set of numeric ids would otherwise be an
-- intset, and from Redis 7.2 on a small set a listpack, searched or rewritten on each add.
--- @include "placeholder"
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

-- Appends (score, pid) to q[key]'s flat list {score, pid, score, pid, ...}, ZADD's arguments:
-- catchUp's writes, keyed by set name.
local function queueScore(q, key, pid, score)
  local adds = q[key]
  if not adds then
    adds = {}
    q[key] = adds
  end
  local n = #adds
  adds[n + 1], adds[n + 2] = score, pid
end

-- Whether any proxy of the pool has a tag or a country, i.e. sets besides the all-proxies set:
-- the meta hash's `tagged` count, kept by upsert and remove (countTagged below). A pool written
-- before the count existed has none and counts as tagged until an upsert or removal counts it.
local function anyTagged(prefix)
  return redis.call('HGET', prefix .. 'meta', 'tagged') ~= '0'
end

-- Keeps the meta hash's `tagged` count after a proxy's set names (its `zk`) went from `old` to
-- `new` (nil or false for none): one more or one fewer, or counted over the zk column hash when
-- the count is missing (a pool written before it existed), after the column was written.
local function countTagged(prefix, old, new)
  local meta = prefix .. 'meta'
  local function tagged(zk) return zk and string.find(zk, ' ', 1, true) ~= nil end
  if redis.call('HEXISTS', meta, 'tagged') == 1 then
    local delta = (tagged(new) and 1 or 0) - (tagged(old) and 1 or 0)
    if delta ~= 0 then redis.call('HINCRBY', meta, 'tagged', delta) end
    return
  end
  local n = 0
  for _, zk in ipairs(redis.call('HVALS', prefix .. 'zk')) do
    if tagged(zk) then n = n + 1 end
  end
  redis.call('HSET', meta, 'tagged', n)
end

-- At most this many proxies are left behind at once: past it, the batched script that left the
-- last ones behind catches up, so no call has more than about this many to catch up.
local BEHIND_LIMIT = 256

-- true once this call has caught up, until it leaves a proxy behind again
local caughtUp = false

-- Brings the sets of every proxy named in `<prefix>a:behind` up to its score in the all-proxies
-- set, and empties the name set (but for PLACEHOLDER, which keeps it a hash table).
local function catchUp(prefix)
  if caughtUp then return end
  caughtUp = true
  local behind = prefix .. 'a:behind'
  if redis.call('SCARD', behind) <= 1 then return end
  local names = redis.call('SMEMBERS', behind)
  local ids = {}
  for i = 1, #names do
    if names[i] ~= PLACEHOLDER then ids[#ids + 1] = names[i] end
  end
  redis.call('SREM', behind, unpack(ids))
  local scores = redis.call('ZMSCORE', prefix .. 'a', unpack(ids))
  local zks = redis.call('HMGET', prefix .. 'zk', unpack(ids))
  local adds = {} -- set name -> {score, id, score, id, ...}
  for i = 1, #ids do
    local score, zk = scores[i], zks[i]
    -- (not in the all-proxies set: out of service or removed, and so in none of its sets)
    if score and zk then
      -- its other sets: every name in zk but the first
      local others = string.match(zk, '^%S+(.*)$')
      for key in string.gmatch(others, '%S+') do queueScore(adds, key, ids[i], score) end
    end
  end
  for key, list in pairs(adds) do redis.call('ZADD', key, unpack(list)) end
end

-- setAvailability for many proxies at once, for the batched scripts: `adds` is ZADD's flat
-- argument list {score, pid, score, pid, ...} for the all-proxies set (each proxy at most once,
-- the caller's to ensure) and `pids` the same proxies. Their other sets are left behind (see
-- above): the proxies are named in `a:behind`, all of them unless no proxy of the pool has a tag
-- or country (a proxy without either is skipped when caught up), so no proxy's set names are
-- read here.
local function flushAvailability(prefix, adds, pids)
  if #pids == 0 then return end
  redis.call('ZADD', prefix .. 'a', unpack(adds))
  if not anyTagged(prefix) then return end
  local key = prefix .. 'a:behind'
  caughtUp = false
  -- (the set only grows when a name is new to it)
  local added = redis.call('SADD', key, PLACEHOLDER, unpack(pids))
  if added > 0 and redis.call('SCARD', key) > BEHIND_LIMIT + 1 then catchUp(prefix) end
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
