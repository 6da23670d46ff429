--[[
  Adds a proxy, or updates one in place keeping its in-flight count, counters and health. A lease
  reads the url and price from the proxy's hash, so an update applies from its next lease.

  KEYS[1] meta  hash  cap (capacity in service), seq (epoch counter)
  KEYS[2] ids   set   every proxy id

  ARGV[1] key prefix   ARGV[2] id        ARGV[3] url          ARGV[4] tags, space separated
  ARGV[5] country or ""                  ARGV[6] maxConcurrency ARGV[7] price per GB (USD)

  Per proxy: hash p:<id> {url, tags, country, max, price, drain (0|1), qu (quarantine end or 0),
  faults (consecutive), born (epoch at creation), zk (its availability sets), held (in flight
  while out of service: availability.lua), released, bytes, o:<outcome> (all but ok)}; zk and
  born also in the zk and born hashes (id -> value) for the scripts that read many at once.

  Returns 1 when created, 0 when updated
]]
--- @include "availability"

local prefix, id = ARGV[1], ARGV[2]
local pkey = prefix .. 'p:' .. id
local zk = prefix .. 'a'
for tag in string.gmatch(ARGV[4], '%S+') do zk = zk .. ' ' .. prefix .. 'a:t:' .. tag end
if ARGV[5] ~= '' then zk = zk .. ' ' .. prefix .. 'a:c:' .. ARGV[5] end
local max = tonumber(ARGV[6])

local old = redis.call('HMGET', pkey, 'max', 'zk', 'drain', 'qu')
redis.call('HSET', pkey, 'url', ARGV[3], 'tags', ARGV[4], 'country', ARGV[5], 'max', max,
  'price', ARGV[7], 'zk', zk)
redis.call('HSET', prefix .. 'zk', id, zk)
if not old[1] then
  local born = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', pkey, 'held', 0, 'released', 0, 'drain', 0, 'qu', 0, 'faults', 0, 'bytes', 0,
    'born', born)
  redis.call('HSET', prefix .. 'born', id, born)
  redis.call('SADD', KEYS[2], id)
  redis.call('HINCRBY', KEYS[1], 'cap', max)
  setAvailability(zk, id, 0, max)
  return 1
end
if old[3] == '0' and old[4] == '0' then
  -- in service: the count moves from the old sets to the new, with the new max
  local inflight = inFlightOf(prefix, id, true, '0')
  for key in string.gmatch(old[2], '%S+') do redis.call('ZREM', key, id) end
  setAvailability(zk, id, inflight, max)
  redis.call('HINCRBY', KEYS[1], 'cap', max - tonumber(old[1]))
end
return 0
