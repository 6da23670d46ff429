--[[
  The retry budget of one upstream (a model, or a scraped host), over a sliding window of
  one-second buckets. A tenant may retry while its own retries stay under ratio × its own first
  attempts to this upstream (plus the floor), and the upstream's retries under ratio × all first
  attempts to it (plus the floor). So the upstream as a whole cannot start a retry storm, and one
  tenant's retries never take the ratio share another tenant's first attempts earned: only the
  floor, a small allowance for a quiet upstream, is shared first come.
  Both keys carry the upstream as hash tag: one slot.

  KEYS[1] the upstream's hash: "f:<sec>" first attempts, "r:<sec>" retries, "pruned" last prune
  KEYS[2] the tenant's share of it, the same fields for the tenant's attempts alone

  ARGV[1] op: "first" (count first attempts) | "retry" (ask for one retry)
  ARGV[2] window length in seconds
  ARGV[3] ratio (retries allowed per first attempt)
  ARGV[4] floor: retries always allowed per window
  ARGV[5] with "first": how many first attempts to count (default 1; workers send them in batches)

  Returns 1 when counted / allowed, 0 when the retry budget is spent.
]]
local t = redis.call('TIME')
local now = tonumber(t[1])
local window = tonumber(ARGV[2])
local ratio = tonumber(ARGV[3])
local floor = tonumber(ARGV[4])

-- drop buckets that left the window (at most once per window per key)
local function prune(key)
  local pruned = tonumber(redis.call('HGET', key, 'pruned') or '0')
  if now - pruned < window then return end
  local fields = redis.call('HKEYS', key)
  for i = 1, #fields do
    local sec = tonumber(string.sub(fields[i], 3))
    if sec and sec <= now - window then redis.call('HDEL', key, fields[i]) end
  end
  redis.call('HSET', key, 'pruned', now)
  redis.call('EXPIRE', key, window * 4)
end

-- true while the key's retries in the window are under ratio × its first attempts + floor
local function has_room(key)
  local fields = {}
  for s = now - window + 1, now do
    fields[#fields + 1] = 'f:' .. s
    fields[#fields + 1] = 'r:' .. s
  end
  local values = redis.call('HMGET', key, unpack(fields))
  local firsts, retries = 0, 0
  for i = 1, #values, 2 do
    firsts = firsts + tonumber(values[i] or '0')
    retries = retries + tonumber(values[i + 1] or '0')
  end
  return retries < math.floor(firsts * ratio) + floor
end

prune(KEYS[1])
prune(KEYS[2])

if ARGV[1] == 'first' then
  redis.call('HINCRBY', KEYS[1], 'f:' .. now, ARGV[5] or '1')
  redis.call('HINCRBY', KEYS[2], 'f:' .. now, ARGV[5] or '1')
  return 1
end

if not has_room(KEYS[2]) or not has_room(KEYS[1]) then return 0 end
redis.call('HINCRBY', KEYS[1], 'r:' .. now, 1)
redis.call('HINCRBY', KEYS[2], 'r:' .. now, 1)
return 1
