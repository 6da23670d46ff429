--[[
  Claims quarantined proxies whose backoff has run out, for probing. A claim pushes the proxy's
  quarantine end forward by the claim time, so concurrent probers do not probe it twice and a
  prober that dies lets another one pick it up later.

  KEYS[1] quar  zset  proxyId -> quarantine end

  ARGV[1] key prefix   ARGV[2] now (ms) or ""   ARGV[3] most proxies to claim   ARGV[4] claim (ms)
  Returns a flat list {id1, url1, id2, url2, ...}
]]
--- @include "clock"

local prefix = ARGV[1]
local now = clockMs(ARGV[2])
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
local claimedUntil = now + tonumber(ARGV[4])
local out = {}
for i = 1, #due do
  local pkey = prefix .. 'p:' .. due[i]
  local url = redis.call('HGET', pkey, 'url')
  if url then
    redis.call('ZADD', KEYS[1], claimedUntil, due[i])
    redis.call('HSET', pkey, 'qu', int(claimedUntil))
    out[#out + 1] = due[i]
    out[#out + 1] = url
  else
    redis.call('ZREM', KEYS[1], due[i])
  end
end
return out
