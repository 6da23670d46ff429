--[[
  Records one upstream attempt and updates every aggregate it feeds, or nothing at all when that
  (job, attempt) is already recorded, so a replayed write is harmless. O(1): at most 25 commands,
  10 for a job's first recorded attempt (the common case: its totals are set, not added to).

  KEYS[1] job  hash  e:<attempt> -> the entry (entry.ts's compact format), and the job's running totals:
                     attempts, cost (nano-USD), in, out (tokens), bytes
  KEYS[2] day  hash  the tenant's UTC day: spend (nano-USD, every attempt), and per
                     <metric>|<outcome>|<model key>: a (attempts), r (retries), i, o (tokens),
                     b (bytes), n (nano-USD), rn (retry nano-USD), sv (nano-USD a cache hit saved),
                     ci, cw, rs (cached input, cache-write and reasoning tokens: parts of i and o),
                     and for attempts whose tokens are estimated (a cut stream) e (attempts), ei, eo
                     (tokens), en (nano-USD), also counted in a, i, o and n

  ARGV[1] attempt (1-based)   ARGV[2] the entry (compact)   ARGV[3] model key, "(scrape)" for scrapes
  ARGV[4] outcome             ARGV[5] input tokens               ARGV[6] output tokens
  ARGV[7] bytes               ARGV[8] cost (nano-USD)            ARGV[9] job TTL (s)
  ARGV[10] day TTL (s)           ARGV[11] nano-USD saved (a cache hit's; "0" otherwise; absent
                                 from older callers)
  ARGV[12] cached input tokens   ARGV[13] cache-write tokens        ARGV[14] reasoning tokens
  ARGV[15] 1 when the tokens are estimated, else 0 (ARGV[12..15] absent from older callers)
  ARGV[16] "1" when this entry is an interrupted note, "0" when it is not (absent from older
           callers: never replaces a note)

  Integers stay strings end to end: HINCRBY adds them as int64, never through Lua's doubles.

  Returns {1, job cost} when recorded, {0, job cost} when the attempt was already there (nothing
  changed), and {2, the stored entry} when the stored entry is an interrupted note (written by the
  worker that re-ran the job) and this one is the attempt's real outcome, arriving late from a
  worker that was paused, not dead: the caller replaces the note (upgrade-3.lua), nothing changed
  here; the job cost is the job's running total over its recorded attempts (nano-USD), so the
  caller has it without another round trip.
]]

local function add(key, field, amount)
  if amount ~= '0' then redis.call('HINCRBY', key, field, amount) end
end

local jobCost = ARGV[8]
if redis.call('EXISTS', KEYS[1]) == 0 then
  -- The job's first recorded attempt: its totals are this attempt's, written with the entry in
  -- one HSET (the fields a later HINCRBY would have created, zeros left out as there).
  local fields = { 'e:' .. ARGV[1], ARGV[2], 'attempts', '1', 'cost', ARGV[8] }
  for _, f in ipairs({ { 'in', ARGV[5] }, { 'out', ARGV[6] }, { 'bytes', ARGV[7] } }) do
    if f[2] ~= '0' then
      fields[#fields + 1] = f[1]
      fields[#fields + 1] = f[2]
    end
  end
  redis.call('HSET', KEYS[1], unpack(fields))
else
  if redis.call('HSETNX', KEYS[1], 'e:' .. ARGV[1], ARGV[2]) == 0 then
    local stored = redis.call('HGET', KEYS[1], 'e:' .. ARGV[1])
    -- format 2: 2|lane|kind|provider|model|proxy|outcome|interrupted|...
    if ARGV[16] == '0' and string.match(stored, '^2|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|[^|]*|1|') then
      return { 2, stored }
    end
    return { 0, redis.call('HGET', KEYS[1], 'cost') or '0' }
  end
  redis.call('HINCRBY', KEYS[1], 'attempts', 1)
  jobCost = tostring(redis.call('HINCRBY', KEYS[1], 'cost', ARGV[8]))
  add(KEYS[1], 'in', ARGV[5])
  add(KEYS[1], 'out', ARGV[6])
  add(KEYS[1], 'bytes', ARGV[7])
end
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
add(KEYS[2], 'ci' .. group, ARGV[12] or '0')
add(KEYS[2], 'cw' .. group, ARGV[13] or '0')
add(KEYS[2], 'rs' .. group, ARGV[14] or '0')
if ARGV[15] == '1' then
  redis.call('HINCRBY', KEYS[2], 'e' .. group, 1)
  add(KEYS[2], 'ei' .. group, ARGV[5])
  add(KEYS[2], 'eo' .. group, ARGV[6])
  add(KEYS[2], 'en' .. group, ARGV[8])
end
add(KEYS[2], 'spend', ARGV[8])
if ARGV[11] then add(KEYS[2], 'sv' .. group, ARGV[11]) end
redis.call('EXPIRE', KEYS[2], ARGV[10])
return { 1, jobCost }
