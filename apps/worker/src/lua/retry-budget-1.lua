--[[
  Fleet-wide retry budget over a sliding window of one-second buckets: retries may not exceed
  ratio × first attempts (plus a small floor, so a quiet fleet can still retry).

  KEYS[1] budget hash: "f:<sec>" first attempts, "r:<sec>" retries, "pruned" last prune second

  ARGV[1] op: "first" (count a first attempt) | "retry" (ask for one retry)
  ARGV[2] window length in seconds
  ARGV[3] ratio (retries allowed per first attempt)
  ARGV[4] floor: retries always allowed per window
  ARGV[5] with "first": how many first attempts to count (default 1; workers send them in batches)

  Returns 1 when counted / allowed, 0 when the retry budget is spent.
]]
local t = redis.call('TIME')
local now = tonumber(t[1])
local window = tonumber(ARGV[2])

-- drop buckets that left the window (at most once per window)
local pruned = tonumber(redis.call('HGET', KEYS[1], 'pruned') or '0')
if now - pruned >= window then
  local fields = redis.call('HKEYS', KEYS[1])
  for i = 1, #fields do
    local sec = tonumber(string.sub(fields[i], 3))
    if sec and sec <= now - window then redis.call('HDEL', KEYS[1], fields[i]) end
  end
  redis.call('HSET', KEYS[1], 'pruned', now)
  redis.call('EXPIRE', KEYS[1], window * 4)
end

if ARGV[1] == 'first' then
  redis.call('HINCRBY', KEYS[1], 'f:' .. now, ARGV[5] or '1')
  return 1
end

local fields = {}
for s = now - window + 1, now do
  fields[#fields + 1] = 'f:' .. s
  fields[#fields + 1] = 'r:' .. s
end
local values = redis.call('HMGET', KEYS[1], unpack(fields))
local firsts, retries = 0, 0
for i = 1, #values, 2 do
  firsts = firsts + tonumber(values[i] or '0')
  retries = retries + tonumber(values[i + 1] or '0')
end
if retries >= math.floor(firsts * tonumber(ARGV[3])) + tonumber(ARGV[4]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'r:' .. now, 1)
return 1
