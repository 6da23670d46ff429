--[[
  Ends a lease whose outcome carries no penalty: ok, upstream_fault, client_fault, canceled. The
  common case, so it touches only the leases set and the proxy (release-8.lua handles the
  outcomes that penalise a proxy or a (proxy, host) pair, and needs the host's keys for that).

  The lease, named with its fencing epoch, must still be in the leases set and not have expired;
  otherwise the release is stale and changes nothing (an expired one still found here gives its
  capacity back, as the reclaim in lease would). ok resets the proxy's consecutive-fault count.

  KEYS[1] leases  zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] key prefix   ARGV[2] now (ms) or ""
  ARGV[3] the lease: "leaseId|epoch|proxyId", fenced by its presence in the leases set
  ARGV[4] outcome      ARGV[5] bytes (a non-negative integer)

  Returns -1 when stale, else 0 (no penalty)
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"
--- @include "end-lease"

local status, pid, pkey, p, inflight = endLease(ARGV[1], KEYS[1], ARGV[3], clockMs(ARGV[2]), ARGV[4], ARGV[5])
if status ~= 1 then return status end
if ARGV[4] == 'ok' and p[6] ~= '0' then redis.call('HSET', pkey, 'faults', '0') end
setAvailability(p[2], pid, inflight, tonumber(p[1]), p[4] == '0' and p[5] == '0')
return 0
