--[[
  Adds a proxy, or updates one in place keeping its in-flight count, counters and health.

  KEYS[1] meta  hash  cap (capacity in service), seq (epoch counter), tagged
  KEYS[2] ids   set   every proxy id

  ARGV[1] key prefix   ARGV[2] id        ARGV[3] url          ARGV[4] tags, space separated
  ARGV[5] country or ""                  ARGV[6] maxConcurrency ARGV[7] price per GB (USD)

  Per proxy: hash p:<id> {url, tags, country, max, price, drain (0|1), qu (quarantine end or 0),
  faults (consecutive), born (epoch at creation), zk (its availability sets), held (in flight
  while out of service; in service the count is in its availability score: availability.lua),
  released (ended leases), bytes, o:<outcome> (every outcome but ok)}; and in the column hashes
  url, zk and born (id -> value), which the batched scripts read for many proxies in one call.
  The meta hash's `tagged` counts the proxies with a tag or a country (availability.lua).
  Each availability set and column hash the proxy joins gets PLACEHOLDER (placeholder.lua), so it
  stays in the hash-table encoding whatever the pool's size.

  Returns 1 when created, 0 when updated
]]
--- @include "availability"
--- @include "placeholder"

local prefix, id = ARGV[1], ARGV[2]
local pkey = prefix .. 'p:' .. id
local zk = prefix .. 'a'
for tag in string.gmatch(ARGV[4], '%S+') do zk = zk .. ' ' .. prefix .. 'a:t:' .. tag end
if ARGV[5] ~= '' then zk = zk .. ' ' .. prefix .. 'a:c:' .. ARGV[5] end
local max = tonumber(ARGV[6])

for key in string.gmatch(zk, '%S+') do redis.call('ZADD', key, '+inf', PLACEHOLDER) end
for _, column in ipairs({'url', 'zk', 'born'}) do
  redis.call('HSET', prefix .. column, PLACEHOLDER, '')
end

local old = redis.call('HMGET', pkey, 'max', 'zk', 'drain', 'qu')
if not old[1] then
  local born = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', pkey, 'url', ARGV[3], 'tags', ARGV[4], 'country', ARGV[5], 'max', max,
    'price', ARGV[7], 'held', 0, 'released', 0, 'drain', 0, 'qu', 0, 'faults', 0, 'bytes', 0, 'born', born, 'zk', zk)
  redis.call('HSET', prefix .. 'url', id, ARGV[3])
  redis.call('HSET', prefix .. 'zk', id, zk)
  redis.call('HSET', prefix .. 'born', id, born)
  redis.call('SADD', KEYS[2], id)
  redis.call('HINCRBY', KEYS[1], 'cap', max)
  countTagged(prefix, nil, zk)
  setAvailability(zk, id, 0, max)
  return 1
end

if old[3] == '0' and old[4] == '0' then
  -- in service: the in-flight count is in the score (held stays 0) and moves to the new sets
  local inflight = inFlightOf(prefix, id, true, '0')
  for key in string.gmatch(old[2], '%S+') do redis.call('ZREM', key, id) end
  setAvailability(zk, id, inflight, max)
  redis.call('HINCRBY', KEYS[1], 'cap', max - tonumber(old[1]))
end
redis.call('HSET', pkey, 'url', ARGV[3], 'tags', ARGV[4], 'country', ARGV[5], 'max', max,
  'price', ARGV[7], 'zk', zk)
redis.call('HSET', prefix .. 'url', id, ARGV[3])
redis.call('HSET', prefix .. 'zk', id, zk)
countTagged(prefix, old[2], zk)
return 0
