--[[
  Adds a client's release counts to its proxies' hashes: leases ended (`released`), their bytes
  and outcomes other than ok (`o:<outcome>`), counted by the releasing client and sent in batches
  (ProxyPool's stats). A proxy that no longer exists gets nothing (no stray hash), nor does one
  re-added since the earliest lease counted (its `born` epoch is newer than that lease's).

  KEYS[1] born  hash  proxy id -> epoch at its creation

  ARGV[1] key prefix   ARGV[2..] four per count: proxy id, the earliest epoch among the leases
  counted, field, amount (a positive integer)
  Returns the number of counts applied
]]
local prefix = ARGV[1]
local exists, applied = {}, 0
for i = 2, #ARGV, 4 do
  local id = ARGV[i]
  local known = exists[id]
  if known == nil then
    local born = redis.call('HGET', KEYS[1], id)
    known = born ~= false and tonumber(born) <= tonumber(ARGV[i + 1])
    exists[id] = known
  end
  if known then
    redis.call('HINCRBY', prefix .. 'p:' .. id, ARGV[i + 2], ARGV[i + 3])
    applied = applied + 1
  end
end
return applied
