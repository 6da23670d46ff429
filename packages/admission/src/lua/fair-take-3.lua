--[[
  Takes up to N held jobs, one tenant at a time in round-robin order, so a tenant with a huge
  backlog gets the same share of the batch lane as a tenant with a small one. Taken ids are noted
  as in flight until the caller has released them into the queue (a crashed caller's ids are
  released by the next sweep).

  KEYS[1] ring              list  tenants with a backlog
  KEYS[2] ring members      set
  KEYS[3] in flight         hash  jobId -> time taken (ms)

  ARGV[1] how many jobs to take
  ARGV[2] now (ms)
  ARGV[3] key prefix of tenant backlogs (the tenant id is appended)

  Returns the taken job ids, in round-robin order.
]]
local want = tonumber(ARGV[1])
local taken = {}
local spins = 0
local limit = want + redis.call('LLEN', KEYS[1]) + 1
while #taken < want and spins < limit do
  spins = spins + 1
  local tenant = redis.call('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT')
  if not tenant then break end
  local backlog = ARGV[3] .. tenant
  local popped = redis.call('ZPOPMIN', backlog)
  if popped[1] then
    taken[#taken + 1] = popped[1]
    redis.call('HSET', KEYS[3], popped[1], ARGV[2])
  end
  if redis.call('ZCARD', backlog) == 0 then
    -- At the tail since the LMOVE: scanned from there, O(1) however many tenants wait.
    redis.call('LREM', KEYS[1], -1, tenant)
    redis.call('SREM', KEYS[2], tenant)
  end
end
return taken
