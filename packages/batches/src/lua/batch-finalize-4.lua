--[[
  Completes a batch submission: the first request to finish writes the counts and moves its list of
  job ids into place; a later request for the same batch (an Idempotency-Key replay, or a
  concurrent duplicate) changes nothing and learns whether its body was the same.

  KEYS[1] batch   hash  fp, created_at, total, accepted, rejected, webhook_url, done_at (written here);
                        succeeded, failed, canceled, cost_nanos, done_at (by batch-finished-3.lua)
  KEYS[2] staging list  this request's "<job id> <custom_id>" entries, in line order
  KEYS[3] jobs    list  the batch's entries, in line order (KEYS[2] renamed)
  KEYS[4] done    hash  job id -> outcome, for jobs already finished

  ARGV[1] fingerprint of the body   ARGV[2] created_at (epoch ms)   ARGV[3] total
  ARGV[4] accepted                  ARGV[5] rejected                ARGV[6] TTL (s)
  ARGV[7] webhook URL for the batch.completed event ('' = none)
  ARGV[8] now (epoch s): the batch's done_at when its jobs all finished before it was finalized

  Returns 0 when this call finalized the batch, 1 when it was already finalized with the same
  fingerprint, -1 when it was finalized with another one (nothing changed in either case)
]]

local fp = redis.call('HGET', KEYS[1], 'fp')
if fp then
  redis.call('DEL', KEYS[2])
  if fp == ARGV[1] then return 1 end
  return -1
end

redis.call('HSET', KEYS[1], 'fp', ARGV[1], 'created_at', ARGV[2], 'total', ARGV[3],
  'accepted', ARGV[4], 'rejected', ARGV[5])
if ARGV[7] ~= '' then redis.call('HSET', KEYS[1], 'webhook_url', ARGV[7]) end
if redis.call('HLEN', KEYS[4]) >= tonumber(ARGV[4]) then
  redis.call('HSETNX', KEYS[1], 'done_at', ARGV[8])
end
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[3])
else
  redis.call('DEL', KEYS[3])
end
for i = 1, 4 do
  if i ~= 2 and redis.call('TTL', KEYS[i]) < tonumber(ARGV[6]) then
    redis.call('EXPIRE', KEYS[i], ARGV[6])
  end
end
return 0
