--[[
  Notes that a worker started a job: from now on it is in flight but no longer queued. A job
  the open set does not know (admitted while limits were off, or already expired) is left alone.

  KEYS[1] open     zset  jobId -> expiry (ms)
  KEYS[2] started  zset  jobId -> expiry (ms)

  ARGV[1] job id

  Returns 1 when the job was noted as started now, 0 otherwise.
]]
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not expiry then
  return 0
end
return redis.call('ZADD', KEYS[2], 'NX', expiry, ARGV[1])
