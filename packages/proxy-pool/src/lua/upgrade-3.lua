--[[
  Brings a pool written by an earlier version to this layout, or changes nothing; each ProxyPool
  runs it before its first other script. Those versions kept a placeholder (OLD) in most sorted
  sets and hashes, let tag and country sets' scores lag behind the all-proxies set (which stayed
  exact; `a:behind` named the laggards, meta `tagged` counted tagged proxies) and kept a `url`
  hash. After it no key holds OLD, every set of a proxy in service has its score from the
  all-proxies set, and the rest is gone. Every process of the earlier version must have stopped:
  one still running would write them again (README.md, Upgrading).

  KEYS[1] meta  hash  cap, seq     KEYS[2] leases  zset     KEYS[3] ids  set  every proxy id

  ARGV[1] key prefix   ARGV[2] a SCAN MATCH pattern for every key of the pool
  Returns 1 when the pool was upgraded, 0 when it was in this layout already
]]
local prefix = ARGV[1]
local OLD = '~' .. string.rep('placeholder', 8)
local all, gone = prefix .. 'a', {prefix .. 'a:behind', prefix .. 'url'}
if redis.call('HEXISTS', KEYS[1], 'tagged') == 0 and redis.call('EXISTS', unpack(gone)) == 0
  and not redis.call('ZSCORE', KEYS[2], OLD) and not redis.call('ZSCORE', all, OLD) then
  return 0
end

for _, kind in ipairs({'zset', 'hash'}) do
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', ARGV[2], 'COUNT', '1000', 'TYPE', kind)
    cursor = page[1]
    for _, key in ipairs(page[2]) do
      redis.call(kind == 'zset' and 'ZREM' or 'HDEL', key, OLD)
    end
  until cursor == '0'
end
for _, id in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local score, zk = redis.call('ZSCORE', all, id), redis.call('HGET', prefix .. 'p:' .. id, 'zk')
  if score and zk then
    for key in string.gmatch(zk, '%S+') do redis.call('ZADD', key, score, id) end
  end
end
redis.call('DEL', unpack(gone))
redis.call('HDEL', KEYS[1], 'tagged')
return 1
