--[[
  Reclaims expired leases, idle sticky sessions and ended host exclusions (includes/reclaim.lua)
  now, for a reader (list, metrics) or a sweeper; leases do it in small batches.

  KEYS[1] leases    zset  "leaseId|epoch|proxyId" -> expiry (ms)
  KEYS[2] timers    zset  "s:<session>" | "h:<host>" -> due time (ms)
  KEYS[3] sessions  hash  session -> proxyId
  KEYS[4] hosts     zset  host -> time its exclusion data may be dropped

  ARGV[1] key prefix   ARGV[2] now (ms) or ""   ARGV[3] most leases (and most timers) to handle
  Returns the number of leases that expired
]]
--- @include "clock"
--- @include "availability"
--- @include "expire-lease"
--- @include "reclaim"

return reclaim(ARGV[1], KEYS[1], KEYS[2], KEYS[3], KEYS[4], clockMs(ARGV[2]), tonumber(ARGV[3]))
