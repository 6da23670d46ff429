--[[
  One refill of the batch lane: counts its ready jobs, takes the difference to the buffer from the
  tenants' backlogs round-robin (as fair-take-3.lua does) and promotes the taken jobs from delayed
  to ready, all in one step, so no id is ever taken without being promoted (nothing to note in
  flight, nothing for a sweep to repair). The promotion is BullMQ's promote-9.lua for many jobs at
  once: a job's priority decides between the wait list and the prioritized zset (one priority
  counter increment for all), each job gets its `waiting` event and `delay` 0, and one marker
  wakes the workers. A taken id that is not delayed any more (canceled and removed, or past its
  deadline and running) is dropped, as a failed promote was.

  Every key carries the batch queue's hash tag (`{batch}`): one cluster slot.

  KEYS[1]  ring          list  tenants with a backlog
  KEYS[2]  ring members  set
  KEYS[3]  delayed       zset  the lane's delayed jobs (BullMQ)
  KEYS[4]  wait          list  ready jobs without a priority (BullMQ)
  KEYS[5]  meta          hash  the queue's paused flag and global concurrency (BullMQ)
  KEYS[6]  prioritized   zset  ready jobs with a priority (BullMQ)
  KEYS[7]  active        list  (BullMQ; its length against a global concurrency)
  KEYS[8]  pc            the priority counter (BullMQ)
  KEYS[9]  events        stream (BullMQ)
  KEYS[10] marker        zset  wakes blocked workers (BullMQ)

  ARGV[1] the buffer: ready jobs to keep in the lane
  ARGV[2] key prefix of tenant backlogs (the tenant id is appended)
  ARGV[3] key prefix of the queue's jobs (the job id is appended)

  Returns {moved, held}: jobs promoted now, and whether any tenant still has a backlog (1 or 0).
]]
local rcall = redis.call

-- Runs `cmd key ...` over `list` in slices (unpack has a limit on arguments).
local function each(cmd, key, list)
  local out = {}
  for i = 1, #list, 1000 do
    local reply = rcall(cmd, key, unpack(list, i, math.min(i + 999, #list)))
    if type(reply) == 'table' then
      for _, v in ipairs(reply) do out[#out + 1] = v end
    end
  end
  return out
end

-- Nothing held (an idle lane): one command.
local ringLen = rcall('LLEN', KEYS[1])
if ringLen == 0 then return { 0, 0 } end
local want = tonumber(ARGV[1]) - rcall('LLEN', KEYS[4]) - rcall('ZCARD', KEYS[6])
if want <= 0 then return { 0, 1 } end

-- Take, round-robin: one job per tenant per turn; a lone tenant gives the rest in one pop.
local taken = {}
local tenant = nil
local spins = 0
local limit = want + ringLen + 1
while #taken < want and ringLen > 0 and spins < limit do
  spins = spins + 1
  if ringLen > 1 or not tenant then tenant = rcall('LMOVE', KEYS[1], KEYS[1], 'LEFT', 'RIGHT') end
  local count = ringLen == 1 and want - #taken or 1
  local popped = rcall('ZPOPMIN', ARGV[2] .. tenant, count)
  for i = 1, #popped, 2 do taken[#taken + 1] = popped[i] end
  if #popped < 2 * count then
    -- Emptied: it leaves the ring (a later hold puts it back). LMOVE just put it at the tail, so
    -- the LREM scans from there (count -1): O(1), where a scan from the head costs a pass over
    -- every tenant with a backlog.
    rcall('LREM', KEYS[1], -1, tenant)
    rcall('SREM', KEYS[2], tenant)
    ringLen = ringLen - 1
    tenant = nil
  end
end
if #taken == 0 then return { 0, ringLen > 0 and 1 or 0 } end

-- Promote the ones still delayed.
local scores = each('ZMSCORE', KEYS[3], taken)
local delayed = {}
for i, id in ipairs(taken) do
  if scores[i] then delayed[#delayed + 1] = id end
end
if #delayed == 0 then return { 0, ringLen > 0 and 1 or 0 } end
each('ZREM', KEYS[3], delayed)

local plain, ranked = {}, {}
for _, id in ipairs(delayed) do
  local priority = tonumber(rcall('HGET', ARGV[3] .. id, 'priority')) or 0
  if priority == 0 then
    plain[#plain + 1] = id
  else
    ranked[#ranked + 1] = { id, priority }
  end
end
each('LPUSH', KEYS[4], plain)
if #ranked > 0 then
  -- BullMQ's score: priority * 2^32 + counter (FIFO within a priority), one counter per job.
  local last = rcall('INCRBY', KEYS[8], #ranked)
  local args = {}
  for i, job in ipairs(ranked) do
    args[#args + 1] = job[2] * 0x100000000 + (last - #ranked + i) % 0x100000000
    args[#args + 1] = job[1]
  end
  each('ZADD', KEYS[6], args)
end
for _, id in ipairs(delayed) do
  rcall('XADD', KEYS[9], '*', 'event', 'waiting', 'jobId', id, 'prev', 'delayed')
  rcall('HSET', ARGV[3] .. id, 'delay', 0)
end

-- The queue's paused flag, or a global concurrency already reached: no wake-up (as BullMQ).
local meta = rcall('HMGET', KEYS[5], 'paused', 'concurrency')
local pausedOrMaxed = meta[1] ~= false or (meta[2] ~= false and rcall('LLEN', KEYS[7]) >= tonumber(meta[2]))
if not pausedOrMaxed then rcall('ZADD', KEYS[10], 0, '0') end
return { #delayed, ringLen > 0 and 1 or 0 }
