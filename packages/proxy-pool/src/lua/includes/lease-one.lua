-- Leases one proxy for one request to one target host: the body of lease-7.lua, shared with
-- lease-many-6.lua so a request in a batch gets exactly the answer a lone lease would.
--
-- Selection: the candidate set is the smallest of the availability sets the constraints name
-- (all proxies, a tag's, a country's); the other constraints are O(1) membership checks. Only
-- proxies in service with a free slot are in these sets, scored by utilisation. A candidate is
-- skipped while its (proxy, host) pair cools or is banned. The first HEAD candidates (least
-- utilised) are checked one by one; usually the first one wins. When they all cool for this host,
-- pages of PAGE candidates are checked with one ZMSCORE each: in order through the whole set when
-- it has at most SCAN_LIMIT members (exact: the least-utilised eligible proxy wins), else at
-- SCAN_LIMIT / PAGE random offsets.
--
-- c (the call):  prefix, leases, timers, meta, sessions, hosts, quar (key names), now (ms),
--   reserve (share), sessionTtl (ms), retryHint (ms), pending (leases granted by this call but not
--   yet added to the leases set: they count against the reserve), cache (proxy id -> {max, url, zk,
--   released}, or nil to read the proxy every time; dropped on any reclaim)
-- r (the request): lane "i" | "b", session ("" for none), seed (integer), country ("" for none),
--   tags (list), xKey (the host's exclusion zset), xEmpty (true: the host is known to have no
--   exclusions, so the ZSCORE against xKey is skipped), reclaim (expired leases to reclaim first)
--
-- Returns 1, proxyId, proxyUrl: a slot is taken and the session recorded, but the epoch and the
-- lease's member in the leases set are the caller's to write; or 0, reason, retryAfterMs.
-- Needs: clock.lua, availability.lua, expire-lease.lua, reclaim.lua
local LEASE_HEAD, LEASE_PAGE, LEASE_SCAN_LIMIT, RECLAIM_ON_EXHAUSTION = 4, 64, 1024, 64

local function leaseOne(c, r)
  local prefix, now = c.prefix, c.now
  local session = r.session

  local reclaimed = false
  if r.reclaim > 0 then
    reclaim(prefix, c.leases, c.timers, c.sessions, c.hosts, now, r.reclaim)
    c.cache = c.cache and {}
    reclaimed = true
  end

  local function overReserve()
    if r.lane ~= 'b' then return false end
    local cap = tonumber(redis.call('HGET', c.meta, 'cap') or '0')
    if cap == 0 then return false end -- nothing in service: "capacity" says it better
    local reserved = math.ceil(cap * c.reserve - 1e-9)
    return redis.call('ZCARD', c.leases) + c.pending >= cap - reserved
  end

  local base = prefix .. 'a'
  local extra = {}
  if r.country ~= '' or #r.tags > 0 then
    local sets = {}
    if r.country ~= '' then sets[1] = prefix .. 'a:c:' .. r.country end
    for i = 1, #r.tags do sets[#sets + 1] = prefix .. 'a:t:' .. r.tags[i] end
    local best, bestCard = 1, -1
    for i = 1, #sets do
      local card = redis.call('ZCARD', sets[i])
      if bestCard < 0 or card < bestCard then best, bestCard = i, card end
    end
    base = sets[best]
    for i = 1, #sets do
      if i ~= best then extra[#extra + 1] = sets[i] end
    end
  end

  local xKey = r.xKey
  local soonest = nil
  local function cooling(untilMs)
    untilMs = tonumber(untilMs)
    if untilMs > now then
      if soonest == nil or untilMs < soonest then soonest = untilMs end
      return true
    end
    return false
  end

  local function eligible(pid)
    for i = 1, #extra do
      if not redis.call('ZSCORE', extra[i], pid) then return false end
    end
    if r.xEmpty then return true end
    local untilMs = redis.call('ZSCORE', xKey, pid)
    return not (untilMs and cooling(untilMs))
  end

  -- The first eligible member of base[from .. from + LEASE_PAGE - 1], with one ZMSCORE per set.
  local function scanPage(from)
    local members = redis.call('ZRANGE', base, from, from + LEASE_PAGE - 1)
    if #members == 0 then return nil end
    local ok = {}
    for i = 1, #members do ok[i] = true end
    for e = 1, #extra do
      local found = redis.call('ZMSCORE', extra[e], unpack(members))
      for i = 1, #members do
        if not found[i] then ok[i] = false end
      end
    end
    local untils = redis.call('ZMSCORE', xKey, unpack(members))
    for i = 1, #members do
      if ok[i] and not (untils[i] and cooling(untils[i])) then return members[i] end
    end
    return nil
  end

  local function choose()
    if session ~= '' then
      local pid = redis.call('HGET', c.sessions, session)
      if pid and redis.call('ZSCORE', base, pid) and eligible(pid) then return pid end
    end
    -- the least-utilised candidate alone first: it is almost always the answer
    local first = redis.call('ZRANGE', base, '0', '0')[1]
    if not first then return nil end
    if eligible(first) then return first end
    local head = redis.call('ZRANGE', base, 1, LEASE_HEAD - 1)
    for i = 1, #head do
      if eligible(head[i]) then return head[i] end
    end
    if #head < LEASE_HEAD - 1 then return nil end
    local n = redis.call('ZCARD', base)
    if n - LEASE_HEAD <= LEASE_SCAN_LIMIT then
      for from = LEASE_HEAD, n - 1, LEASE_PAGE do
        local pid = scanPage(from)
        if pid then return pid end
      end
      return nil
    end
    math.randomseed(r.seed)
    for _ = 1, LEASE_SCAN_LIMIT / LEASE_PAGE do
      local pid = scanPage(math.random(LEASE_HEAD, n - LEASE_PAGE))
      if pid then return pid end
    end
    return nil
  end

  local reserveHit = overReserve()
  local chosen = nil
  if not reserveHit then chosen = choose() end
  if not chosen and not reclaimed and redis.call('ZCOUNT', c.leases, '-inf', now) > 0 then
    -- expired leases may be holding the capacity we lack: reclaim, then look again
    reclaim(prefix, c.leases, c.timers, c.sessions, c.hosts, now, RECLAIM_ON_EXHAUSTION)
    c.cache = c.cache and {}
    soonest = nil
    reserveHit = overReserve()
    if not reserveHit then chosen = choose() end
  end

  if reserveHit then return 0, 'reserve', c.retryHint end
  if not chosen then
    if soonest then return 0, 'cooling', math.max(1, soonest - now) end
    local retry = c.retryHint
    if tonumber(redis.call('HGET', c.meta, 'cap') or '0') == 0 then
      -- nothing in service: the earliest quarantine end is when a probe may bring capacity back
      local q = redis.call('ZRANGE', c.quar, 0, 0, 'WITHSCORES')
      if q[2] and tonumber(q[2]) - now > retry then retry = tonumber(q[2]) - now end
    end
    return 0, 'capacity', retry
  end

  -- numbers go to redis.call as strings: see availability.lua
  local pkey = prefix .. 'p:' .. chosen
  local granted = redis.call('HINCRBY', pkey, 'granted', '1')
  local p = c.cache and c.cache[chosen]
  if not p then
    -- within one script only a reclaim changes `released` (and drops the cache)
    p = redis.call('HMGET', pkey, 'max', 'url', 'zk', 'released')
    if c.cache then c.cache[chosen] = p end
  end
  setAvailability(p[3], chosen, granted - tonumber(p[4]), tonumber(p[1]), true)
  if session ~= '' then
    redis.call('HSET', c.sessions, session, chosen)
    redis.call('ZADD', c.timers, now + c.sessionTtl, 's:' .. session)
  end
  return 1, chosen, p[2]
end
