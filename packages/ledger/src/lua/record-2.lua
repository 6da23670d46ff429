--[[
  Records one upstream attempt and updates every aggregate it feeds, or nothing at all when that
  (job, attempt) is already recorded, so a replayed write is harmless. O(1): at most 16 commands.

  KEYS[1] job  hash  e:<attempt> -> the entry (compact JSON), and the job's running totals:
                     attempts, cost (nano-USD), in, out (tokens), bytes
  KEYS[2] day  hash  the tenant's UTC day: spend (nano-USD, every attempt), and per
                     <metric>|<outcome>|<model key>: a (attempts), r (retries), i, o (tokens),
                     b (bytes), n (nano-USD), rn (retry nano-USD)

  ARGV[1] attempt (1-based)   ARGV[2] the entry (compact JSON)   ARGV[3] model key, "(scrape)" for scrapes
  ARGV[4] outcome             ARGV[5] input tokens               ARGV[6] output tokens
  ARGV[7] bytes               ARGV[8] cost (nano-USD)            ARGV[9] job TTL (s)
  ARGV[10] day TTL (s)

  Integers stay strings end to end: HINCRBY adds them as int64, never through Lua's doubles.

  Returns {1, job cost} when recorded, {0, job cost} when the attempt was already there (nothing
  changed); the job cost is the job's running total over its recorded attempts (nano-USD), so the
  caller has it without another round trip.
]]

if redis.call('HSETNX', KEYS[1], 'e:' .. ARGV[1], ARGV[2]) == 0 then
  return { 0, redis.call('HGET', KEYS[1], 'cost') or '0' }
end

local function add(key, field, amount)
  if amount ~= '0' then redis.call('HINCRBY', key, field, amount) end
end

redis.call('HINCRBY', KEYS[1], 'attempts', 1)
local jobCost = redis.call('HINCRBY', KEYS[1], 'cost', ARGV[8])
add(KEYS[1], 'in', ARGV[5])
add(KEYS[1], 'out', ARGV[6])
add(KEYS[1], 'bytes', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[9])

local group = '|' .. ARGV[4] .. '|' .. ARGV[3]
redis.call('HINCRBY', KEYS[2], 'a' .. group, 1)
if tonumber(ARGV[1]) > 1 then
  redis.call('HINCRBY', KEYS[2], 'r' .. group, 1)
  add(KEYS[2], 'rn' .. group, ARGV[8])
end
add(KEYS[2], 'i' .. group, ARGV[5])
add(KEYS[2], 'o' .. group, ARGV[6])
add(KEYS[2], 'b' .. group, ARGV[7])
add(KEYS[2], 'n' .. group, ARGV[8])
add(KEYS[2], 'spend', ARGV[8])
redis.call('EXPIRE', KEYS[2], ARGV[10])
return { 1, tostring(jobCost) }
