-- Ends a lease ("leaseId|epoch|proxyId" in the leases set) and gives its slot back. The lease must
-- still be in the set and not have expired; an expired one still found here gives its capacity
-- back, as the reclaim in lease would. The releasing client counts the outcome and the bytes
-- (ProxyPool's stats, flushed to the proxy's hash in batches).
-- Returns -1 when stale; 0 when its proxy was removed since (or re-added: `born` is newer than
-- the lease's epoch), so there is nothing to give back; else 1, the proxy id, its key, its
-- fields {max, zk, born, drain, qu, faults}, its in-flight count after this end and whether it is
-- in service.
-- Needs: availability.lua, expire-lease.lua
local function endLease(prefix, leasesKey, member, now)
  local expiresAt = redis.call('ZSCORE', leasesKey, member)
  if not expiresAt then return -1 end
  if tonumber(expiresAt) <= now then
    expireLease(prefix, leasesKey, member)
    return -1
  end
  redis.call('ZREM', leasesKey, member)
  local epoch, pid = string.match(member, '|(%d+)|([^|]+)$')
  local pkey = prefix .. 'p:' .. pid
  local p = redis.call('HMGET', pkey, 'max', 'zk', 'born', 'drain', 'qu', 'faults')
  if not p[1] or tonumber(p[3]) > tonumber(epoch) then return 0 end
  local inService = p[4] == '0' and p[5] == '0'
  local inflight = giveBack(prefix, pid, pkey, p[2], tonumber(p[1]), inService, 1)
  return 1, pid, pkey, p, inflight, inService
end

-- A request through the proxy succeeded: its consecutive-fault count starts again.
local function clearFaults(prefix, pid, pkey)
  redis.call('HSET', pkey, 'faults', '0')
  redis.call('SREM', prefix .. 'faulty', pid)
end
