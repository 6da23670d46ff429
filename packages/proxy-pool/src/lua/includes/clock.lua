-- Milliseconds since the epoch. Callers pass their clock corrected by its measured offset to the
-- Redis server's clock (or a test clock); "" falls back to the server's TIME.
local function clockMs(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Lua 5.1 prints large numbers in exponent form; members and records need plain integers.
local function int(n) return string.format('%d', n) end
