--[[
  Counts one finished job of a batch, once: a repeated call for the same job changes nothing.
  Keeps the batch's keys alive for at least the retention period after its latest finished job:
  the batch hash remembers (kx) until when all three are known to live, and their TTLs are only
  looked at again once that is more than a minute short, not at every job.

  KEYS[1] batch  hash  succeeded, failed, canceled (jobs), cost_nanos (nano-USD), kx (epoch s),
                       done_at (epoch s, when the last job of a finalized batch was counted)
  KEYS[2] done   hash  job id -> outcome
  KEYS[3] jobs   list  the batch's entries (only its TTL is touched)

  ARGV[1] job id   ARGV[2] outcome: succeeded | failed | canceled   ARGV[3] cost (nano-USD, integer)
  ARGV[4] retention (s)   ARGV[5] now (epoch s, the caller's clock)

  The cost stays a string end to end: HINCRBY adds it as int64, never through Lua's doubles.

  Returns 0 when the job was already counted, 1 when counted, 2 when counted and it was the last
  unfinished job of a finalized batch (the batch just completed)
]]

if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
if ARGV[3] ~= '0' then redis.call('HINCRBY', KEYS[1], 'cost_nanos', ARGV[3]) end
local ttl = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
local h = redis.call('HMGET', KEYS[1], 'fp', 'accepted', 'succeeded', 'failed', 'canceled', 'kx')
if (tonumber(h[6]) or 0) < now + ttl - 60 then
  for i = 1, 3 do
    local current = redis.call('TTL', KEYS[i])
    if current ~= -2 and current < ttl then redis.call('EXPIRE', KEYS[i], ttl) end
  end
  redis.call('HSET', KEYS[1], 'kx', now + ttl)
end
if h[1] then
  local finished = (tonumber(h[3]) or 0) + (tonumber(h[4]) or 0) + (tonumber(h[5]) or 0)
  if finished >= (tonumber(h[2]) or 0) then
    redis.call('HSETNX', KEYS[1], 'done_at', ARGV[5])
    return 2
  end
end
return 1
