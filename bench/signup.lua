-- wrk script for the sign-up benchmark. Each request takes the next pre-fetched session
-- (cookie + CSRF token + start stamp, from the file in WRK_TOKENS) and a fresh e-mail address
-- (WRK_PREFIX keeps the addresses of successive runs apart).
-- Counts 303 (acknowledged sign-ups) and anything else per thread; done() prints the totals.
local threads = {}
local next_id = 1

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  sessions = {}
  for line in io.lines(os.getenv("WRK_TOKENS")) do
    local cookie, body = line:match("^(.-)\t(.*)$")
    table.insert(sessions, {cookie = cookie, body = body})
  end
  counter = 0
  acked = 0
  other = 0
  path = os.getenv("WRK_PATH")
  prefix = os.getenv("WRK_PREFIX") or "b"
end

function request()
  counter = counter + 1
  local s = sessions[(counter % #sessions) + 1]
  local body = s.body .. "&email=" .. prefix .. id .. "-" .. counter .. "%40example.nl"
  return wrk.format("POST", path, {["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = s.cookie}, body)
end

function response(status, headers, body)
  if status == 303 then acked = acked + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local a, o = 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("acked")
    o = o + t:get("other")
  end
  io.write(string.format("BRUG acked=%d other=%d errors=%d\n", a, o,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
