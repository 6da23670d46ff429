-- Removes an expired lease ("leaseId|epoch|proxyId") and gives its capacity back, counted on the
-- proxy here (no client will release it); a proxy removed (or re-added: its `born` is newer than
-- the lease's epoch) since gets nothing.
-- Needs: clock.lua, availability.lua
local function expireLease(prefix, leasesKey, member)
  if redis.call('ZREM', leasesKey, member) == 0 then return end
  local epoch, pid = string.match(member, '|(%d+)|([^|]+)$')
  local pkey = prefix .. 'p:' .. pid
  local p = redis.call('HMGET', pkey, 'born', 'zk', 'drain', 'qu')
  if not p[1] or tonumber(p[1]) > tonumber(epoch) then return end
  redis.call('HINCRBY', pkey, 'released', '1')
  redis.call('HINCRBY', pkey, 'o:expired', '1')
  local score = p[3] == '0' and p[4] == '0' and redis.call('ZSCORE', prefix .. 'a', pid)
  if not score then return redis.call('HINCRBY', pkey, 'held', '-1') end
  local inflight, max = unpackScore(score)
  setAvailability(p[2], pid, math.max(inflight - 1, 0), max)
end

-- Expires those of `members` (leases being released) whose expiry has passed: after it a lease
-- still in the set is live, and its presence is its fence. One ZCOUNT when none has expired.
local function expireDue(prefix, leasesKey, members, now)
  if redis.call('ZCOUNT', leasesKey, '-inf', int(now)) == 0 then return end
  local expiries = redis.call('ZMSCORE', leasesKey, unpack(members))
  for i = 1, #members do
    if expiries[i] and tonumber(expiries[i]) <= now then expireLease(prefix, leasesKey, members[i]) end
  end
end
