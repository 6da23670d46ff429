--[[
  Replaces an interrupted note with the attempt's real outcome, arriving late (record-2.lua
  answered 2): a worker paused past its lock (SIGSTOP, a VM freeze, a long GC) still finished the
  call the upstream bills, after another worker re-ran the job and noted that attempt as
  interrupted. The attempt stays counted once: the note's share of every aggregate is taken out
  and the real entry's put in. Compare-and-set on the stored note, so of two late writers one wins.

  KEYS[1] job hash   KEYS[2] the real entry's day hash   KEYS[3] the note's day hash (may be KEYS[2])

  ARGV[1] attempt   ARGV[2] the note as stored   ARGV[3] the real entry (compact)   ARGV[4] job TTL (s)
  ARGV[5] day TTL (s)
  The real entry: ARGV[6] model key  ARGV[7] outcome  ARGV[8] input tokens  ARGV[9] output tokens
  ARGV[10] bytes  ARGV[11] cost (nano-USD). The note, the same six: ARGV[12] model key
  ARGV[13] outcome  ARGV[14] input tokens  ARGV[15] output tokens  ARGV[16] bytes  ARGV[17] cost
  ARGV[18] nano-USD the real entry saved (a cache hit's, record-2.lua's ARGV[11]; "0" otherwise)
  The real entry's token classes, as record-2.lua's ARGV[12] to ARGV[15] (a note has none):
  ARGV[19] cached input tokens  ARGV[20] cache-write tokens  ARGV[21] reasoning tokens
  ARGV[22] 1 when the tokens are estimated, else 0

  Returns {1, job cost} when replaced, {0, job cost} when the stored entry was no longer the note.
]]

local field = 'e:' .. ARGV[1]
if redis.call('HGET', KEYS[1], field) ~= ARGV[2] then
  return { 0, redis.call('HGET', KEYS[1], 'cost') or '0' }
end
redis.call('HSET', KEYS[1], field, ARGV[3])

local function add(key, f, amount)
  if amount ~= '0' and redis.call('HINCRBY', key, f, amount) == 0 then redis.call('HDEL', key, f) end
end
local function neg(amount)
  if amount == '0' then return '0' end
  return '-' .. amount
end

-- The job's totals: the attempt count stands, the amounts move from the note to the entry.
for i, f in ipairs({ 'in', 'out', 'bytes', 'cost' }) do
  add(KEYS[1], f, neg(ARGV[13 + i]))
  add(KEYS[1], f, ARGV[7 + i])
end
local jobCost = redis.call('HGET', KEYS[1], 'cost') or '0'
redis.call('EXPIRE', KEYS[1], ARGV[4])

-- The days: the note's group loses the attempt, the entry's group gains it (record-2.lua's fields).
local retry = tonumber(ARGV[1]) > 1
local function apply(key, group, i, o, b, n, sign)
  local s = function(v) if sign < 0 then return neg(v) end return v end
  add(key, 'a' .. group, s('1'))
  if retry then
    add(key, 'r' .. group, s('1'))
    add(key, 'rn' .. group, s(n))
  end
  add(key, 'i' .. group, s(i))
  add(key, 'o' .. group, s(o))
  add(key, 'b' .. group, s(b))
  add(key, 'n' .. group, s(n))
  add(key, 'spend', s(n))
end
apply(KEYS[3], '|' .. ARGV[13] .. '|' .. ARGV[12], ARGV[14], ARGV[15], ARGV[16], ARGV[17], -1)
apply(KEYS[2], '|' .. ARGV[7] .. '|' .. ARGV[6], ARGV[8], ARGV[9], ARGV[10], ARGV[11], 1)
local real = '|' .. ARGV[7] .. '|' .. ARGV[6]
add(KEYS[2], 'sv' .. real, ARGV[18])
add(KEYS[2], 'ci' .. real, ARGV[19] or '0')
add(KEYS[2], 'cw' .. real, ARGV[20] or '0')
add(KEYS[2], 'rs' .. real, ARGV[21] or '0')
if ARGV[22] == '1' then
  add(KEYS[2], 'e' .. real, '1')
  add(KEYS[2], 'ei' .. real, ARGV[8])
  add(KEYS[2], 'eo' .. real, ARGV[9])
  add(KEYS[2], 'en' .. real, ARGV[11])
end
redis.call('EXPIRE', KEYS[2], ARGV[5])
return { 1, jobCost }
