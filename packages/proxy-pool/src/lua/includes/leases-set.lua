-- The leases set ("leaseId|epoch|proxyId" -> expiry) always holds one more member: a placeholder
-- scored +inf, longer than Redis's zset-max-listpack-value (64 bytes unless configured higher).
-- A sorted set with a member that long is kept in Redis's skiplist + hash table encoding, so the
-- fencing check of every release, and every lease's insert and removal, find the member by a hash
-- lookup. Without it a set of fewer than 128 leases is a listpack, scanned member by member on
-- each of them (measured: 11% fewer lease+release pairs per second with 64 in flight). Its +inf
-- score keeps it out of every expiry range; leaseCount counts the real leases.
local LEASES_PLACEHOLDER = '~' .. string.rep('placeholder', 8)

local function leaseCount(leasesKey)
  return redis.call('ZCOUNT', leasesKey, '-inf', '(+inf')
end
