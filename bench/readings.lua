-- wrk script for bench/readings.sh: each request hands in one resident's
-- readings (POST /api/v1/accounts/{number}/readings with its bearer token),
-- going round the residents of items.tsv; the two wrk threads take turns.
local items = {}
for line in io.lines(os.getenv("BENCH_ITEMS")) do
  local account, token, body = line:match("^([^\t]+)\t([^\t]+)\t(.+)$")
  items[#items + 1] = {
    path = "/api/v1/accounts/" .. account .. "/readings",
    headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token },
    body = body,
  }
end

local threads = 0
function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

local n = 0
function request()
  n = n + 1
  local it = items[((n * 2 + (offset or 0)) % #items) + 1]
  return wrk.format("POST", it.path, it.headers, it.body)
end

-- THINK_MS > 0: each connection waits a random 0–2×THINK_MS ms between its
-- submissions, like a resident filling in the form; 0 submits back to back.
local think = tonumber(os.getenv("THINK_MS") or "0") or 0
function delay()
  if think > 0 then
    return math.random(0, 2 * think)
  end
  return 0
end
