--[[
  Holds batch-lane jobs in their tenant's fair-share backlog until the mover releases them.

  KEYS[1] the tenant's backlog   zset  jobId -> priority * 2^32 + sequence (lowest runs first)
  KEYS[2] ring                   list  tenants with a backlog, in round-robin order
  KEYS[3] ring members           set   the same tenants, for O(1) membership

  ARGV[1] tenant id
  ARGV[2..] pairs of (score, jobId)

  Returns the number of job ids newly held (a replayed hold changes nothing).
]]
local added = 0
for i = 2, #ARGV, 2 do
  added = added + redis.call('ZADD', KEYS[1], 'NX', ARGV[i], ARGV[i + 1])
end
if redis.call('ZCARD', KEYS[1]) > 0 and redis.call('SADD', KEYS[3], ARGV[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
end
return added
