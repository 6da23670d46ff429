-- Removes an expired lease ("leaseId|epoch|proxyId" in the leases set) and gives its capacity back.
-- A proxy removed since the lease was granted (no hash, or re-added: its `born` epoch is newer than
-- the lease's) has nothing to get back. Counted on the proxy here (no client will release it).
-- Needs: availability.lua
local function expireLease(prefix, leasesKey, member)
  redis.call('ZREM', leasesKey, member)
  local epoch, pid = string.match(member, '|(%d+)|([^|]+)$')
  local pkey = prefix .. 'p:' .. pid
  local p = redis.call('HMGET', pkey, 'max', 'zk', 'born', 'drain', 'qu')
  if not p[1] or tonumber(p[3]) > tonumber(epoch) then return end
  redis.call('HINCRBY', pkey, 'released', '1')
  redis.call('HINCRBY', pkey, 'o:expired', '1')
  giveBack(prefix, pid, pkey, p[2], tonumber(p[1]), p[4] == '0' and p[5] == '0', 1)
end
