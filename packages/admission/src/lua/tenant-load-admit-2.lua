--[[
  Admits jobs against a tenant's limits on jobs in flight and jobs queued, shared by every API
  process. A job is in flight from admission until a worker reports it finished, and queued
  until a worker first starts it. Members carry an expiry (their deadline plus a grace), so an
  entry a crashed process never cleared stops counting on its own.

  KEYS[1] open     zset  jobId -> expiry (ms): admitted, not finished (= in flight)
  KEYS[2] started  zset  jobId -> expiry (ms): started by a worker, not finished

  ARGV[1] max jobs in flight (0: no limit)
  ARGV[2] max jobs queued (0: no limit)
  ARGV[3] expiry (ms since the epoch) of the jobs being admitted
  ARGV[4..] job ids to admit, all or none (none given: only check that there is room)

  Returns {1, inFlight, queued} when admitted (counts after admission), {0, inFlight, queued}
  when the in-flight limit refuses, {-1, inFlight, queued} when the queued limit refuses.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local maxInFlight = tonumber(ARGV[1])
local maxQueued = tonumber(ARGV[2])
local inFlight = redis.call('ZCARD', KEYS[1])
local queued = inFlight - redis.call('ZCARD', KEYS[2])

-- Ids already admitted (a repeated call) take no new room. One ZMSCORE and one ZADD per slice
-- of ids, not two commands per job.
local SLICE = 1000
local fresh = {}
for i = 4, #ARGV, SLICE do
  local last = math.min(i + SLICE - 1, #ARGV)
  local scores = redis.call('ZMSCORE', KEYS[1], unpack(ARGV, i, last))
  for j = i, last do
    if not scores[j - i + 1] then fresh[#fresh + 1] = ARGV[j] end
  end
end
if #ARGV >= 4 and #fresh == 0 then
  return { 1, inFlight, queued }
end
local need = math.max(#fresh, 1)
if maxInFlight > 0 and inFlight + need > maxInFlight then
  return { 0, inFlight, queued }
end
if maxQueued > 0 and queued + need > maxQueued then
  return { -1, inFlight, queued }
end
for i = 1, #fresh, SLICE do
  local args = {}
  for j = i, math.min(i + SLICE - 1, #fresh) do
    args[#args + 1] = ARGV[3]
    args[#args + 1] = fresh[j]
  end
  redis.call('ZADD', KEYS[1], unpack(args))
end
return { 1, inFlight + #fresh, queued + #fresh }
