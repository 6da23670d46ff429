-- leaseOne, the pool's one selector. Candidates come from the smallest (by members with a free
-- slot) of the availability sets the constraints name, least utilised first (availability.lua);
-- the other sets are membership checks, and a pair cooling or banned for the host is skipped. The
-- first LEASE_HEAD candidates are checked one by one, then pages of LEASE_PAGE: in order through
-- at most LEASE_SCAN_LIMIT (exact), else at random offsets, so a lease is O(log n) and only a
-- larger set where nearly every proxy cools for the host can answer "cooling" with one eligible.
-- c (the call): prefix, leases, timers, meta, sessions, hosts, quar (key names), now, reserve,
--   sessionTtl, retryHint, pending (leases granted by the call, not yet in the leases set)
-- r (the request): lane "i" | "b", session, seed, country, tags (list), xKey (the host's exclusion
--   zset), xEmpty (true: xKey does not exist), hsKey, banKey (the host's hs: hash, ban: zset)
-- A paced pair (pacing.lua) is leased only from its next allowed start, which the lease moves on
-- by 1/rate: its x:<host> score says when, so it is skipped like a cooling pair until then and an
-- exhausted answer names the soonest start as retryAfterMs.
-- Returns 1, proxyId, proxyUrl, pricePerGbUsd (a slot taken, the session recorded; the epoch and
-- the leases set are the caller's), or 0, reason, retryAfterMs.
-- Needs: clock.lua, availability.lua, expire-lease.lua, reclaim.lua, pacing.lua
local LEASE_HEAD, LEASE_PAGE, LEASE_SCAN_LIMIT, RECLAIM_ON_EXHAUSTION = 4, 64, 1024, 64
local NOT_FULL = '(' .. string.format('%d', FULL_SCORE)

-- Whether a batch-lane request would take a slot of the interactive reserve.
local function overReserve(c, r)
  if r.lane ~= 'b' then return false end
  local cap = tonumber(redis.call('HGET', c.meta, 'cap') or '0')
  if cap == 0 then return false end -- nothing in service: "capacity" says it better
  local reserved = math.ceil(cap * c.reserve - 1e-9)
  return redis.call('ZCARD', c.leases) + c.pending >= cap - reserved
end

-- A request's search: `base` (the candidates, in order), `extra` (the other sets a candidate must
-- be in), `soonest` (the earliest end of a cooldown or ban met: the retry hint).
local function newSearch(c, r)
  local s = { now = c.now, seed = r.seed, xKey = r.xKey, xEmpty = r.xEmpty, extra = {} }
  local sets, best = {}, nil
  s.base = c.prefix .. 'a'
  if r.country ~= '' then sets[1] = c.prefix .. 'a:c:' .. r.country end
  for _, tag in ipairs(r.tags) do sets[#sets + 1] = c.prefix .. 'a:t:' .. tag end
  for _, set in ipairs(sets) do
    local card = redis.call('ZCOUNT', set, '-inf', NOT_FULL)
    if not best or card < best then best, s.base = card, set end
  end
  for _, set in ipairs(sets) do
    if set ~= s.base then s.extra[#s.extra + 1] = set end
  end
  return s
end

-- Whether a cooldown, ban or paced wait ending at `untilMs` still holds (noting the soonest that
-- does, and the waiting proxy).
local function cooling(s, untilMs, pid)
  untilMs = tonumber(untilMs)
  if untilMs <= s.now then return false end
  if s.soonest == nil or untilMs < s.soonest then s.soonest = untilMs end
  s.waiting = s.waiting or {}
  s.waiting[#s.waiting + 1] = pid
  return true
end

local function eligible(s, pid)
  for _, set in ipairs(s.extra) do
    if not redis.call('ZSCORE', set, pid) then return false end
  end
  if s.xEmpty then return true end
  local untilMs = redis.call('ZSCORE', s.xKey, pid)
  return not (untilMs and cooling(s, untilMs, pid))
end

-- The first eligible member with a free slot of base[from .. from + LEASE_PAGE - 1], its score,
-- and whether the page reached the full proxies or the set's end.
local function scanPage(s, from)
  local flat = redis.call('ZRANGE', s.base, from, from + LEASE_PAGE - 1, 'WITHSCORES')
  local members, scores, ok = {}, {}, {}
  for i = 1, #flat, 2 do
    if tonumber(flat[i + 1]) >= FULL_SCORE then break end
    local k = #members + 1
    members[k], scores[k], ok[k] = flat[i], flat[i + 1], true
  end
  local ended = #members * 2 < #flat or #flat < LEASE_PAGE * 2
  if #members == 0 then return nil, nil, ended end
  for e = 1, #s.extra do
    local found = redis.call('ZMSCORE', s.extra[e], unpack(members))
    for i = 1, #members do ok[i] = ok[i] and found[i] ~= false end
  end
  local untils = redis.call('ZMSCORE', s.xKey, unpack(members))
  for i = 1, #members do
    if ok[i] and not (untils[i] and cooling(s, untils[i], members[i])) then return members[i], scores[i] end
  end
  return nil, nil, ended
end

-- Whether an ineligible session proxy only waits for its paced start (paced, neither cooling
-- after a 429 nor banned): the session keeps it and the job waits, where a cooldown or ban moves
-- the session.
local function pacedWait(s, r, pid)
  if s.xEmpty then return false end
  for _, set in ipairs(s.extra) do
    if not redis.call('ZSCORE', set, pid) then return false end
  end
  local v = redis.call('HMGET', r.hsKey, pid .. ':p', pid .. ':r')
  local rate = parsePace(v[1], s.now)
  local coolingUntil = tonumber(string.match(v[2] or '', '|(%d+)$') or '0')
  if not rate or rate == 0 or coolingUntil > s.now then return false end
  return not redis.call('ZSCORE', r.banKey, pid)
end

-- The session's proxy while it is eligible (nil while it waits for its paced start), else the
-- least-utilised eligible candidate; nil if none.
local function choose(c, s, r)
  if r.session ~= '' then
    local pid = redis.call('HGET', c.sessions, r.session)
    local score = pid and redis.call('ZSCORE', s.base, pid)
    if score and tonumber(score) < FULL_SCORE then
      if eligible(s, pid) then return pid, score end
      if pacedWait(s, r, pid) then return nil end
    end
  end
  for i = 0, LEASE_HEAD - 1 do
    local top = redis.call('ZRANGE', s.base, i, i, 'WITHSCORES')
    if not top[1] or tonumber(top[2]) >= FULL_SCORE then return nil end
    if eligible(s, top[1]) then return top[1], top[2] end
  end
  local n = redis.call('ZCOUNT', s.base, '-inf', NOT_FULL)
  if n - LEASE_HEAD <= LEASE_SCAN_LIMIT then
    for from = LEASE_HEAD, n - 1, LEASE_PAGE do
      local pid, score, ended = scanPage(s, from)
      if pid or ended then return pid, score end
    end
    return nil
  end
  math.randomseed(s.seed)
  for _ = 1, LEASE_SCAN_LIMIT / LEASE_PAGE do
    local pid, score = scanPage(s, math.random(LEASE_HEAD, n - LEASE_PAGE))
    if pid then return pid, score end
  end
  return nil
end

-- When to wake a request that every waiting pair turned away, if some of them are paced: the
-- soonest start, or later when earlier requests were told that one. The host's wake cursor ("*:w"
-- in hs:<host>) moves on by one gap of the waiting pairs' combined pace per request, so jobs
-- queued for a paced host wake about as fast as its pairs can start, not all at every start.
local function pacedWake(c, s, hsKey)
  local fields, total = {}, 0
  for i, pid in ipairs(s.waiting) do fields[i] = pid .. ':p' end
  for _, v in ipairs(redis.call('HMGET', hsKey, unpack(fields))) do
    total = total + (parsePace(v, c.now) or 0)
  end
  if total == 0 then return s.soonest end
  local wake = math.max(s.soonest, tonumber(redis.call('HGET', hsKey, '*:w') or '0'))
  redis.call('HSET', hsKey, '*:w', string.format('%d', wake + math.ceil(1000 / total)))
  return wake
end

-- Why nothing was chosen: 0, reason, retryAfterMs.
local function exhausted(c, s, r, reserveHit)
  if reserveHit then return 0, 'reserve', c.retryHint end
  if s.soonest then return 0, 'cooling', math.max(1, pacedWake(c, s, r.hsKey) - c.now) end
  local retry = c.retryHint
  if tonumber(redis.call('HGET', c.meta, 'cap') or '0') == 0 then
    -- nothing in service: the earliest quarantine end is when a probe may bring capacity back
    local q = redis.call('ZRANGE', c.quar, 0, 0, 'WITHSCORES')
    if q[2] and tonumber(q[2]) - c.now > retry then retry = tonumber(q[2]) - c.now end
  end
  return 0, 'capacity', retry
end

local function leaseOne(c, r)
  local s = newSearch(c, r)
  local reserveHit = overReserve(c, r)
  local chosen, score = nil, nil
  if not reserveHit then chosen, score = choose(c, s, r) end
  if not chosen and redis.call('ZCOUNT', c.leases, '-inf', c.now) > 0 then
    -- expired leases may hold the missing capacity
    reclaim(c.prefix, c.leases, c.timers, c.sessions, c.hosts, c.now, RECLAIM_ON_EXHAUSTION)
    s.soonest, s.waiting = nil, nil
    reserveHit = overReserve(c, r)
    if not reserveHit then chosen, score = choose(c, s, r) end
  end
  if not chosen then return exhausted(c, s, r, reserveHit) end

  local p = redis.call('HMGET', c.prefix .. 'p:' .. chosen, 'zk', 'url', 'price')
  local inflight, max = unpackScore(score)
  setAvailability(p[1], chosen, inflight + 1, max)
  local rate = not r.xEmpty and leasePace(r.hsKey, chosen, c.now)
  if rate then redis.call('ZADD', r.xKey, 'GT', c.now + math.ceil(1000 / rate), chosen) end
  if r.session ~= '' then
    redis.call('HSET', c.sessions, r.session, chosen)
    redis.call('ZADD', c.timers, c.now + c.sessionTtl, 's:' .. r.session)
  end
  return 1, chosen, p[2], p[3]
end
