--[[
  Drains a proxy (no new leases; in-flight ones finish) or puts a drained one back. Draining
  takes precedence over quarantine (a drained proxy leaves the quarantine set); undraining one
  with consecutive faults quarantines it, due now, so it serves again only after a good probe.

  KEYS[1] meta      hash  cap, seq
  KEYS[2] quar      zset  proxyId -> quarantine end
  KEYS[3] draining  set   draining proxy ids

  ARGV[1] key prefix   ARGV[2] id   ARGV[3] "1" drain | "0" undrain   ARGV[4] now (ms) or ""
  Returns the proxy's in-flight leases, or -1 when there is no such proxy
]]
--- @include "clock"
--- @include "availability"

local id = ARGV[2]
local pkey = ARGV[1] .. 'p:' .. id
local p = redis.call('HMGET', pkey, 'max', 'zk', 'drain', 'qu', 'held', 'faults')
if not p[1] then return -1 end
local max = tonumber(p[1])
local inflight = inFlightOf(ARGV[1], id, p[3] == '0' and p[4] == '0', p[5])

if ARGV[3] == '1' and p[3] == '0' then
  if p[4] ~= '0' then
    -- quarantined: out of service already, its count held
    redis.call('ZREM', KEYS[2], id)
    redis.call('HSET', pkey, 'qu', 0)
  else
    leaveService(KEYS[1], p[2], id, pkey, inflight, max)
  end
  redis.call('HSET', pkey, 'drain', 1)
  redis.call('SADD', KEYS[3], id)
elseif ARGV[3] == '0' and p[3] == '1' then
  redis.call('HSET', pkey, 'drain', 0)
  redis.call('SREM', KEYS[3], id)
  if p[6] ~= '0' then
    local now = clockMs(ARGV[4])
    redis.call('HSET', pkey, 'qu', int(now))
    redis.call('ZADD', KEYS[2], now, id)
  else
    enterService(KEYS[1], p[2], id, pkey, max)
  end
end
return inflight
