-- Gives back the capacity of up to `limit` expired leases, forgets idle sticky sessions and drops
-- the keys of hosts whose cooldowns, bans and block scores have all run out.
-- Needs: expire-lease.lua
local function reclaim(prefix, leasesKey, timersKey, sessionsKey, hostsKey, now, limit)
  local expired = redis.call('ZRANGEBYSCORE', leasesKey, '-inf', now, 'LIMIT', 0, limit)
  for _, member in ipairs(expired) do expireLease(prefix, leasesKey, member) end
  local due = redis.call('ZRANGEBYSCORE', timersKey, '-inf', now, 'LIMIT', 0, limit)
  for _, timer in ipairs(due) do
    local kind, name = string.sub(timer, 1, 1), string.sub(timer, 3)
    if kind == 's' then
      redis.call('HDEL', sessionsKey, name)
    elseif kind == 'h' then
      redis.call('DEL', prefix .. 'x:' .. name, prefix .. 'ban:' .. name, prefix .. 'hs:' .. name)
      redis.call('ZREM', hostsKey, name)
    end
  end
  if #due > 0 then redis.call('ZREM', timersKey, unpack(due)) end
  return #expired
end
