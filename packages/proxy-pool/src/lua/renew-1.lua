--[[
  Extends a live lease (long streaming requests outlive the default TTL).

  KEYS[1] leases  zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] now (ms) or ""   ARGV[2] the lease: "leaseId|epoch|proxyId"   ARGV[3] TTL from now (ms)
  Returns the new expiry (ms), or -1 when the lease is gone, fenced off or already expired
]]
--- @include "clock"

local now = clockMs(ARGV[1])
local expiresAt = redis.call('ZSCORE', KEYS[1], ARGV[2])
if not expiresAt or tonumber(expiresAt) <= now then return -1 end
local newExpiry = now + tonumber(ARGV[3])
redis.call('ZADD', KEYS[1], 'XX', newExpiry, ARGV[2])
return newExpiry
