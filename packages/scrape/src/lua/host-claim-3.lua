--[[
  Per-host politeness for the whole fleet: a job asks to start a request to a host, and either
  starts now (a lease is taken) or is handed a ticket, its own start time, and waits until then.
  Tickets are spaced at least the interval apart (plus a little slack, so a late start does not
  push every later ticket back), so waiting jobs wake one at a time, in the order they asked.

  Two-phase starts: a grant only reserves the host's next start. The worker reports the moment it
  sends (host-start-1.lua) and `last` is that report, not the grant, so the interval holds between
  starts as the site sees them whatever the worker did between grant and send. While a reservation
  has not reported (`pend`, alive as long as its lease), no other start is granted (interval > 0).

  KEYS[1] host state hash: next (next free ticket, ms), repair (next free slot for a due ticket
          that could not start), last (last reported start, ms), paused (no start before,
          ms), lat (average request duration, ms), pend (lease id of the reservation that has not
          reported its start yet)
  KEYS[2] leases sorted set: lease id -> expiry (ms)
  KEYS[3] tickets sorted set: job id -> ticket (ms)

  ARGV[1] job id
  ARGV[2] lease id (used when the job starts now)
  ARGV[3] interval: least time between two starts (ms)
  ARGV[4] max concurrency: leases in flight at once
  ARGV[5] lease TTL (ms): a crashed worker's slot is free again after it
  ARGV[6] deadline (epoch ms): no ticket at or after it; 0 for none
  ARGV[7] idle TTL (ms) of the keys, and how long an unclaimed ticket is kept past its time
  ARGV[8] "1": the job was just served (its robots.txt fetch): it asks as if its ticket were due

  Returns {1, now} when the job may start now (now: the grant, Redis time in ms);
          {0, waitMs, reason} when it holds a ticket waitMs from now;
          {-1, waitMs, reason} when the first free slot is past the deadline (nothing is held).
  reason: "paused" (Retry-After), "concurrency" (all slots busy) or "interval".
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local job = ARGV[1]
local interval = tonumber(ARGV[3])
local maxc = tonumber(ARGV[4])
local deadline = tonumber(ARGV[6])
local idle = tonumber(ARGV[7])

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - idle)
local inflight = redis.call('ZCARD', KEYS[2])
local s = redis.call('HMGET', KEYS[1], 'next', 'repair', 'last', 'paused', 'lat', 'pend')
local nextFree = tonumber(s[1]) or 0
local repair = tonumber(s[2]) or 0
local last = tonumber(s[3])
local paused = tonumber(s[4]) or 0
local lat = tonumber(s[5]) or 0
local slack = 0
if interval > 0 then slack = math.max(5, math.floor(interval / 20)) end
-- Tickets are spaced by the interval, or by what the host sustains at its concurrency if slower.
local spacing = math.max(interval + slack, math.floor(lat / maxc))
local open = math.max(now, paused)
if last then open = math.max(open, last + interval) end
-- The last grant has not sent yet: the next start is at least an interval after it will.
local pend = s[6]
if interval > 0 and pend and redis.call('ZSCORE', KEYS[2], pend) then
  open = math.max(open, now + interval + slack)
end
local ticket = tonumber(redis.call('ZSCORE', KEYS[3], job))
if not ticket and ARGV[8] == '1' then ticket = now end

local function keep(untilMs)
  local ttl = math.max(untilMs - now, 0) + idle
  for i = 1, 3 do
    if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end

local reason = 'interval'
if paused > now then reason = 'paused' elseif inflight >= maxc then reason = 'concurrency' end

-- Woken before its ticket (it should not be): wait for the same ticket.
if ticket and ticket > now then return {0, ticket - now, reason} end

if open <= now and inflight < maxc and (ticket or nextFree <= now) then
  redis.call('ZREM', KEYS[3], job)
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[2])
  if interval > 0 then redis.call('HSET', KEYS[1], 'pend', ARGV[2]) end
  if not ticket then redis.call('HSET', KEYS[1], 'next', math.max(nextFree, now + spacing)) end
  keep(math.max(nextFree, repair, now + tonumber(ARGV[5])))
  return {1, now}
end

local at
if ticket then
  -- Due but blocked (a late start just before it, all slots busy, or a pause): the next repair
  -- slot, ahead of the tickets still queued.
  at = math.max(open, repair)
else
  at = math.max(open, nextFree)
end
if inflight >= maxc then at = math.max(at, now + spacing) end
if deadline > 0 and at >= deadline then
  redis.call('ZREM', KEYS[3], job)
  return {-1, at - now, reason}
end
if ticket then
  redis.call('HSET', KEYS[1], 'repair', at + spacing)
else
  redis.call('HSET', KEYS[1], 'next', at + spacing)
end
redis.call('ZADD', KEYS[3], at, job)
keep(at)
return {0, at - now, reason}
