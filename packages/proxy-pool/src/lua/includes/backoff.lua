-- Exponential backoff for the n-th consecutive event, capped, with downward jitter: the result
-- lies in [d * (1 - jitter), d] where d = min(base * 2^(n-1), max), so it still grows with n
-- while holders of the same penalty do not all come back in the same millisecond.
local function backoff(base, max, n, jitter, rand)
  local d = base * math.pow(2, n - 1)
  if d > max then d = max end
  return math.floor(d * (1 - jitter * rand))
end
