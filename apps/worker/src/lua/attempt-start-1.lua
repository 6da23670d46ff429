--[[
  Numbers a new attempt of a job, so every worker (and every re-run after a crash) numbers them
  alike. One script rather than a MULTI: same atomicity, one round trip, and none of the
  client-side cost of building a transaction.

  KEYS[1] the job's attempt hash: n attempts so far, m index of the model in use, mn attempts on it

  ARGV[1] TTL of the hash (s)

  Returns {n, mn, m} after counting this attempt.
]]
local n = redis.call('HINCRBY', KEYS[1], 'n', 1)
if n == 1 then
  -- The first attempt: on the requested model (m is not set until a fallback), its first there.
  redis.call('HSET', KEYS[1], 'mn', 1)
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  return { 1, 1, 0 }
end
local mn = redis.call('HINCRBY', KEYS[1], 'mn', 1)
local m = tonumber(redis.call('HGET', KEYS[1], 'm') or '0')
redis.call('EXPIRE', KEYS[1], ARGV[1])
return { n, mn, m }
