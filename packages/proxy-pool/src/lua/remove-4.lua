--[[
  Removes a proxy. Its in-flight leases stay in the leases set until released or expired; their
  release finds no proxy (or a newer one under the same id, by `born`) and changes nothing.

  KEYS[1] meta      hash  cap, seq
  KEYS[2] ids       set   every proxy id
  KEYS[3] quar      zset  proxyId -> quarantine end
  KEYS[4] draining  set   draining proxy ids

  ARGV[1] key prefix   ARGV[2] id

  Returns 1 when removed, 0 when there was no such proxy
]]
local pkey = ARGV[1] .. 'p:' .. ARGV[2]
local p = redis.call('HMGET', pkey, 'max', 'zk', 'drain', 'qu')
if not p[1] then return 0 end
for key in string.gmatch(p[2], '%S+') do redis.call('ZREM', key, ARGV[2]) end
if p[3] == '0' and p[4] == '0' then redis.call('HINCRBY', KEYS[1], 'cap', -tonumber(p[1])) end
redis.call('ZREM', KEYS[3], ARGV[2])
redis.call('SREM', KEYS[4], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
redis.call('DEL', pkey)
return 1
