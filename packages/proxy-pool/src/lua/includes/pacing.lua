-- Pacing of (proxy, host) pairs (ADR 0013). A pair has pacing state only once its host answered
-- a 429: the field "<proxyId>:p" of the host's hs:<host> hash holds "rate|epoch|until|oks":
--   rate   starts per second the pair may make; 0 once raised to the ceiling (unpaced again)
--   epoch  the pool's fencing epoch when the rate was last cut: a 429 on a lease granted before
--          then was in flight at the cut, the same episode, and cuts nothing more
--   until  when the state lapses unless a release touches it again (idle pairs forget it)
--   oks    1 once a success followed the cut
-- A cut also writes the host's start rate, "*:p" (no proxy id has a "*"): a per-IP limit usually
-- holds for every IP, so the host's other pairs start paced at that rate instead of bursting.
-- "*:w" is the host's wake cursor (lease-one.lua's pacedWake).
-- Invariants: a host with pacing state has its x:<host> zset (a 429 writes both, the host timer
-- drops both), so a host without x:<host> has no paced pair; a paced pair's x:<host> score is
-- never before its next allowed start (each lease moves it on by 1/rate).
local HOST_PACE = '*:p'

-- rate, epoch, oks, until of a stored state that has not lapsed, else nil.
local function parsePace(v, now)
  if not v then return nil end
  local rate, epoch, untilMs, oks = string.match(v, '^([^|]+)|(%d+)|(%d+)|(%d)$')
  if tonumber(untilMs) <= now then return nil end
  return tonumber(rate), tonumber(epoch), oks == '1', tonumber(untilMs)
end

local function setPace(hsKey, field, rate, epoch, untilMs, oks)
  local v = string.format('%.4f|%d|%d|%d', rate, epoch, untilMs, oks and 1 or 0)
  redis.call('HSET', hsKey, field, v)
end

-- The rate a lease of the pair must keep (nil: unpaced): its own state, else the host's start
-- rate, which the pair then takes as its own (not cut yet: epoch 0).
local function leasePace(hsKey, pid, now)
  local v = redis.call('HMGET', hsKey, pid .. ':p', HOST_PACE)
  local rate = parsePace(v[1], now)
  if rate then return rate > 0 and rate or nil end
  local hostRate, _, _, untilMs = parsePace(v[2], now)
  if hostRate then setPace(hsKey, pid .. ':p', hostRate, 0, untilMs, false) end
  return hostRate
end
