--[[
  Ends a lease whose outcome carries no penalty: ok, upstream_fault, client_fault, canceled. The
  common case, so it touches only the leases set and the proxy (release-8.lua handles the
  outcomes that penalise a proxy or a (proxy, host) pair, and needs the host's keys for that).

  The lease, named with its fencing epoch, must still be in the leases set and not have expired;
  otherwise the release is stale and changes nothing (an expired one still found here gives its
  capacity back, as the reclaim in lease would). ok resets the proxy's consecutive-fault count.
  The outcome and bytes are counted by the client (ProxyPool's stats), not here.

  KEYS[1] leases  zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] key prefix   ARGV[2] now (ms) or ""
  ARGV[3] the lease: "leaseId|epoch|proxyId", fenced by its presence in the leases set
  ARGV[4] outcome

  Returns -1 when stale, 0 when its proxy was removed (or re-added) since the lease, else 1
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"
--- @include "end-lease"

local status, pid, pkey, p = endLease(ARGV[1], KEYS[1], ARGV[3], clockMs(ARGV[2]))
if status ~= 1 then return status end
if ARGV[4] == 'ok' and p[6] ~= '0' then clearFaults(ARGV[1], pid, pkey) end
return 1
