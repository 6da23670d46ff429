--[[
  Applies a probe result to a quarantined proxy: success re-admits it (its fault count stays until
  a request through it succeeds, so a relapse quarantines it longer); failure counts one more
  fault and extends the quarantine by the grown, jittered backoff.

  KEYS[1] meta  hash  cap, seq
  KEYS[2] quar  zset  proxyId -> quarantine end

  ARGV[1] key prefix        ARGV[2] id                ARGV[3] "1" ok | "0" failed
  ARGV[4] now (ms) or ""    ARGV[5] random in [0, 1)  ARGV[6] jitter
  ARGV[7] quarantine base (ms)                        ARGV[8] quarantine max (ms)

  Returns {"readmitted"} | {"extended", untilMs} | {"noop"} (not quarantined) | {"unknown"}
]]
--- @include "clock"
--- @include "availability"
--- @include "backoff"

local id = ARGV[2]
local pkey = ARGV[1] .. 'p:' .. id
local p = redis.call('HMGET', pkey, 'max', 'zk', 'qu')
if not p[1] then return {'unknown'} end
if p[3] == '0' then return {'noop'} end

if ARGV[3] == '1' then
  redis.call('HSET', pkey, 'qu', 0)
  redis.call('ZREM', KEYS[2], id)
  enterService(KEYS[1], p[2], id, pkey, tonumber(p[1]))
  return {'readmitted'}
end

local now = clockMs(ARGV[4])
local faults = redis.call('HINCRBY', pkey, 'faults', 1)
redis.call('SADD', ARGV[1] .. 'faulty', id)
local ms = backoff(tonumber(ARGV[7]), tonumber(ARGV[8]), faults, tonumber(ARGV[6]), tonumber(ARGV[5]))
local untilMs = now + ms
redis.call('HSET', pkey, 'qu', int(untilMs))
redis.call('ZADD', KEYS[2], untilMs, id)
return {'extended', untilMs}
