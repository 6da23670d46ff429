--[[
  Removes a proxy and ends its leases in flight: they leave the leases set (one pass over it), so
  a late release or renew of one is stale and changes nothing, even after the id is added again.

  KEYS[1] meta      hash  cap, seq
  KEYS[2] ids       set   every proxy id
  KEYS[3] quar      zset  proxyId -> quarantine end
  KEYS[4] draining  set   draining proxy ids
  KEYS[5] leases    zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] key prefix   ARGV[2] id
  Returns 1 when removed, 0 when there was no such proxy
]]
local prefix, id = ARGV[1], ARGV[2]
local pkey = prefix .. 'p:' .. id
local p = redis.call('HMGET', pkey, 'max', 'zk', 'drain', 'qu')
if not p[1] then return 0 end
for key in string.gmatch(p[2], '%S+') do redis.call('ZREM', key, id) end
if p[3] == '0' and p[4] == '0' then redis.call('HINCRBY', KEYS[1], 'cap', -tonumber(p[1])) end
redis.call('ZREM', KEYS[3], id)
redis.call('SREM', KEYS[4], id)
redis.call('SREM', KEYS[2], id)
redis.call('DEL', pkey)
redis.call('HDEL', prefix .. 'zk', id)
redis.call('HDEL', prefix .. 'born', id)
redis.call('SREM', prefix .. 'faulty', id)

-- its leases: members ending in "|<id>" (ids contain no "|")
local suffix = '|' .. id
for _, member in ipairs(redis.call('ZRANGE', KEYS[5], '0', '-1')) do
  if string.sub(member, -#suffix) == suffix then redis.call('ZREM', KEYS[5], member) end
end
return 1
