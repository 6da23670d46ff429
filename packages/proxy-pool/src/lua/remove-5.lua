--[[
  Removes a proxy, and ends its leases in flight: their members leave the leases set, so a late
  release (or renew) of one is stale and changes nothing, even after the id is added again. This
  is what lets the batched release skip a per-proxy generation check (release-many-1.lua). It
  costs one pass over the leases set: about a microsecond per lease in flight pool-wide, once per
  removal (an admin operation).

  KEYS[1] meta      hash  cap, seq, tagged (proxies with a tag or country: availability.lua)
  KEYS[2] ids       set   every proxy id
  KEYS[3] quar      zset  proxyId -> quarantine end
  KEYS[4] draining  set   draining proxy ids
  KEYS[5] leases    zset  "leaseId|epoch|proxyId" -> expiry (ms)

  ARGV[1] key prefix   ARGV[2] id

  Returns 1 when removed, 0 when there was no such proxy
]]
--- @include "availability"

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
redis.call('HDEL', prefix .. 'url', id)
redis.call('HDEL', prefix .. 'zk', id)
countTagged(prefix, p[2], nil)
redis.call('HDEL', prefix .. 'born', id)
redis.call('SREM', prefix .. 'faulty', id)

-- its leases: members ending in "|<id>" (ids contain no "|"), removed in slices that unpack can take
local suffix = '|' .. id
local cut = -#suffix
local ended = {}
for _, member in ipairs(redis.call('ZRANGE', KEYS[5], '0', '-1')) do
  if string.sub(member, cut) == suffix then
    ended[#ended + 1] = member
    if #ended == 1000 then
      redis.call('ZREM', KEYS[5], unpack(ended))
      ended = {}
    end
  end
end
if #ended > 0 then redis.call('ZREM', KEYS[5], unpack(ended)) end
return 1
