-- Ends a lease ("leaseId|epoch|proxyId" in the leases set) and counts it on its proxy: the end,
-- the outcome (all but ok, which list() derives from the ends) and the bytes. The lease must still
-- be in the set and not have expired; an expired one still found here gives its capacity back, as
-- the reclaim in lease would. Numbers go to redis.call as strings (see availability.lua).
-- Returns -1 when stale; 0 when its proxy was removed since (or re-added: `born` is newer than
-- the lease's epoch), so there is nothing to give back; else 1, the proxy id, its key, its
-- fields {max, zk, born, drain, qu, faults, granted} and its in-flight count after this end.
-- Needs: availability.lua, expire-lease.lua
local function endLease(prefix, leasesKey, member, now, outcome, bytes)
  local expiresAt = redis.call('ZSCORE', leasesKey, member)
  if not expiresAt then return -1 end
  if tonumber(expiresAt) <= now then
    expireLease(prefix, leasesKey, member)
    return -1
  end
  redis.call('ZREM', leasesKey, member)
  local epoch, pid = string.match(member, '|(%d+)|([^|]+)$')
  local pkey = prefix .. 'p:' .. pid
  local p = redis.call('HMGET', pkey, 'max', 'zk', 'born', 'drain', 'qu', 'faults', 'granted')
  if not p[1] or tonumber(p[3]) > tonumber(epoch) then return 0 end
  local inflight = tonumber(p[7]) - redis.call('HINCRBY', pkey, 'released', '1')
  if outcome ~= 'ok' then redis.call('HINCRBY', pkey, 'o:' .. outcome, '1') end
  if bytes ~= '0' then redis.call('HINCRBY', pkey, 'bytes', bytes) end
  return 1, pid, pkey, p, inflight
end
