--[[
  A request to a host ended: its lease is given back, the host's average request duration is
  updated, and a Retry-After the host sent pauses every start to it (for the whole fleet).

  KEYS[1] host state hash (see host-claim-3.lua)
  KEYS[2] leases sorted set: lease id -> expiry (ms)

  ARGV[1] lease id
  ARGV[2] when the request started (ms, as host-start returned it, or the grant)
  ARGV[3] pause (ms): no start to the host before now + this; 0 for none
  ARGV[4] idle TTL (ms) of the keys
  ARGV[5] "1": count the interval from now, not from the start (the job itself makes the next
          request, e.g. the page after its robots.txt: the next start is an interval after this
          one ended, however late this one left the worker)

  A reservation given back before it reported its start (nothing was sent) no longer holds the
  host's next start.

  Returns 1 when the lease was held, 0 when it had already expired.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local held = redis.call('ZREM', KEYS[2], ARGV[1])
if held == 1 then
  local took = math.max(now - tonumber(ARGV[2]), 0)
  local lat = tonumber(redis.call('HGET', KEYS[1], 'lat'))
  if lat then lat = math.floor(lat * 0.8 + took * 0.2) else lat = took end
  redis.call('HSET', KEYS[1], 'lat', lat)
end
if redis.call('HGET', KEYS[1], 'pend') == ARGV[1] then redis.call('HDEL', KEYS[1], 'pend') end
if ARGV[5] == '1' then
  local last = tonumber(redis.call('HGET', KEYS[1], 'last')) or 0
  redis.call('HSET', KEYS[1], 'last', math.max(last, now))
end
local pause = tonumber(ARGV[3])
if pause > 0 then
  local paused = tonumber(redis.call('HGET', KEYS[1], 'paused')) or 0
  redis.call('HSET', KEYS[1], 'paused', math.max(paused, now + pause))
end
local ttl = pause + tonumber(ARGV[4])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return held
