-- Leases one proxy for one request to one target host: the body of lease-7.lua, shared with
-- lease-many-6.lua so a request in a batch gets exactly the answer a lone lease would.
--
-- Selection: the candidate set is the smallest of the availability sets the constraints name
-- (all proxies, a tag's, a country's, counting the ones with a free slot); the other constraints
-- are O(1) membership checks. Only proxies in service are in these sets, scored by utilisation
-- with their counts packed in (availability.lua): full ones sort last and end a search. A candidate is
-- skipped while its (proxy, host) pair cools or is banned. The first HEAD candidates (least
-- utilised) are checked one by one; usually the first one wins. When they all cool for this host,
-- pages of PAGE candidates are checked with one ZMSCORE each: in order through the whole set when
-- it has at most SCAN_LIMIT members (exact: the least-utilised eligible proxy wins), else at
-- SCAN_LIMIT / PAGE random offsets.
--
-- c (the call):  prefix, leases, timers, meta, sessions, hosts, quar (key names), now (ms),
--   reserve (share), sessionTtl (ms), retryHint (ms), pending (leases granted by this call but not
--   yet added to the leases set: they count against the reserve)
-- r (the request): lane "i" | "b", session ("" for none), seed (integer), country ("" for none),
--   tags (list), xKey (the host's exclusion zset), xEmpty (true: the host is known to have no
--   exclusions, so the ZSCORE against xKey is skipped), reclaim (expired leases to reclaim first)
--
-- Returns 1, proxyId, proxyUrl: a slot is taken and the session recorded, but the epoch and the
-- lease's member in the leases set are the caller's to write; or 0, reason, retryAfterMs.
-- Needs: clock.lua, availability.lua, leases-set.lua (and its placeholder.lua), expire-lease.lua,
-- reclaim.lua
local LEASE_HEAD, LEASE_PAGE, LEASE_SCAN_LIMIT, RECLAIM_ON_EXHAUSTION = 4, 64, 1024, 64

local function leaseOne(c, r)
  local prefix, now = c.prefix, c.now
  local session = r.session

  local reclaimed = false
  if r.reclaim > 0 then
    reclaim(prefix, c.leases, c.timers, c.sessions, c.hosts, now, r.reclaim)
    reclaimed = true
  end

  local function overReserve()
    if r.lane ~= 'b' then return false end
    local cap = tonumber(redis.call('HGET', c.meta, 'cap') or '0')
    if cap == 0 then return false end -- nothing in service: "capacity" says it better
    local reserved = math.ceil(cap * c.reserve - 1e-9)
    return leaseCount(c.leases) + c.pending >= cap - reserved
  end

  local notFull = '(' .. string.format('%d', FULL_SCORE)
  local base = prefix .. 'a'
  local extra = {}
  if r.country ~= '' or #r.tags > 0 then
    -- these sets' scores may lag behind the all-proxies set's (availability.lua)
    catchUp(prefix)
    local sets = {}
    if r.country ~= '' then sets[1] = prefix .. 'a:c:' .. r.country end
    for i = 1, #r.tags do sets[#sets + 1] = prefix .. 'a:t:' .. r.tags[i] end
    local best, bestCard = 1, -1
    for i = 1, #sets do
      local card = redis.call('ZCOUNT', sets[i], '-inf', notFull)
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

  -- The first eligible member of base[from .. from + LEASE_PAGE - 1] with a free slot and its
  -- score, with one ZMSCORE per set; true as the second answer when the page reached the full
  -- proxies (nothing after them can be leased).
  local function scanPage(from)
    local flat = redis.call('ZRANGE', base, from, from + LEASE_PAGE - 1, 'WITHSCORES')
    local members, scores = {}, {}
    for i = 1, #flat, 2 do
      if tonumber(flat[i + 1]) >= FULL_SCORE then break end
      members[#members + 1] = flat[i]
      scores[#scores + 1] = flat[i + 1]
    end
    local ended = #members * 2 < #flat or #flat < LEASE_PAGE * 2
    if #members == 0 then return nil, nil, ended end
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
      if ok[i] and not (untils[i] and cooling(untils[i])) then return members[i], scores[i] end
    end
    return nil, nil, ended
  end

  local function choose()
    if session ~= '' then
      local pid = redis.call('HGET', c.sessions, session)
      local score = pid and redis.call('ZSCORE', base, pid)
      if score and tonumber(score) < FULL_SCORE and eligible(pid) then return pid, score end
    end
    -- the least-utilised candidates one by one first: the first is almost always the answer
    local head = redis.call('ZRANGE', base, '0', LEASE_HEAD - 1, 'WITHSCORES')
    for i = 1, #head, 2 do
      if tonumber(head[i + 1]) >= FULL_SCORE then return nil end
      if eligible(head[i]) then return head[i], head[i + 1] end
    end
    if #head < LEASE_HEAD * 2 then return nil end
    local n = redis.call('ZCOUNT', base, '-inf', notFull)
    if n - LEASE_HEAD <= LEASE_SCAN_LIMIT then
      for from = LEASE_HEAD, n - 1, LEASE_PAGE do
        local pid, score, ended = scanPage(from)
        if pid or ended then return pid, score end
      end
      return nil
    end
    math.randomseed(r.seed)
    for _ = 1, LEASE_SCAN_LIMIT / LEASE_PAGE do
      local pid, score = scanPage(math.random(LEASE_HEAD, n - LEASE_PAGE))
      if pid then return pid, score end
    end
    return nil
  end

  local reserveHit = overReserve()
  local chosen, score = nil, nil
  if not reserveHit then chosen, score = choose() end
  if not chosen and not reclaimed and redis.call('ZCOUNT', c.leases, '-inf', now) > 0 then
    -- expired leases may be holding the capacity we lack: reclaim, then look again
    reclaim(prefix, c.leases, c.timers, c.sessions, c.hosts, now, RECLAIM_ON_EXHAUSTION)
    soonest = nil
    reserveHit = overReserve()
    if not reserveHit then chosen, score = choose() end
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

  -- one more in flight, in the score of each of its sets (the base set's score is the proxy's)
  local p = redis.call('HMGET', prefix .. 'p:' .. chosen, 'zk', 'url')
  local inflight, max = unpackScore(score)
  setAvailability(p[1], chosen, inflight + 1, max)
  if session ~= '' then
    -- (with PLACEHOLDER: a hash lookup and a skiplist step however few sessions there are)
    redis.call('HSET', c.sessions, session, chosen, PLACEHOLDER, '')
    redis.call('ZADD', c.timers, now + c.sessionTtl, 's:' .. session, '+inf', PLACEHOLDER)
  end
  return 1, chosen, p[2]
end
