--[[
  A granted request is about to be sent (the second phase of a start, see host-claim-3.lua): the
  host's last start becomes now, so the next start is an interval after this one reaches the
  site (up to the local time from this script to the socket), not after its grant, and the
  reservation no longer holds other starts back.

  KEYS[1] host state hash (see host-claim-3.lua): last, pend

  ARGV[1] lease id (as granted by host-claim)
  ARGV[2] idle TTL (ms) of the key

  Returns now (Redis time, ms): the start.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local last = tonumber(redis.call('HGET', KEYS[1], 'last')) or 0
redis.call('HSET', KEYS[1], 'last', math.max(last, now))
if redis.call('HGET', KEYS[1], 'pend') == ARGV[1] then redis.call('HDEL', KEYS[1], 'pend') end
local ttl = tonumber(ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return now
