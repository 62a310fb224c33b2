-- wrk script for bench/peak.sh: the month's mix. Run with as many threads as
-- connections (`-t C -c C`), so that each thread has one request in flight
-- and the time from request() to response() is that request's latency.
-- Each thread goes round the residents of PEAK_RESIDENTS (account, API token,
-- page session cookie, readings body) from its own starting point in steps
-- of a prime (a thread's state does not know how many threads there are), picks a
-- route by the weights in PEAK_MIX ("name=weight,…") and appends one line per
-- answer to PEAK_OUT/<thread>.tsv: route, status, milliseconds.
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } timespec;
  int clock_gettime(int clk_id, timespec *tp);
]]
local ts = ffi.new("timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts) -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local residents = {}
for line in io.lines(os.getenv("PEAK_RESIDENTS")) do
  local account, token, cookie, readings = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.+)$")
  residents[#residents + 1] = { account = account, token = token, cookie = cookie, readings = readings }
end
local photo = assert(io.open(os.getenv("PEAK_PHOTO"), "rb")):read("*a")
local password = os.getenv("PEAK_PASSWORD")

-- The mix: route name and weight, in the order given.
local mix, total = {}, 0
for name, weight in (os.getenv("PEAK_MIX")):gmatch("([%w_]+)=(%d+)") do
  total = total + tonumber(weight)
  mix[#mix + 1] = { name = name, upto = total }
end

local threads = 0
function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

local out, n, started, current
function init(args)
  out = assert(io.open(os.getenv("PEAK_OUT") .. "/" .. id .. ".tsv", "w"))
  math.randomseed(id * 7919 + 17)
  n = 0
end

local function page(path, r)
  return wrk.format("GET", path, { ["Cookie"] = "kabinet_session=" .. r.cookie })
end

local function api(method, path, r, body, kind)
  return wrk.format(method, path, {
    ["Authorization"] = "Bearer " .. r.token,
    ["Content-Type"] = kind or "application/json",
  }, body)
end

local boundary = "----peak" .. tostring(math.random(1, 1e9))
local function request_body(i)
  local text = "Течёт кран на кухне, заявка номер " .. i .. " потока " .. id .. " прогона " .. os.time()
  return "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"category\"\r\n\r\nleak\r\n"
    .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n" .. text .. "\r\n"
    .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"phone\"\r\n\r\n+79120000000\r\n"
    .. "--" .. boundary .. "\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"p.jpg\"\r\n"
    .. "Content-Type: image/jpeg\r\n\r\n" .. photo .. "\r\n--" .. boundary .. "--\r\n"
end

local builders = {
  sign_in = function(r)
    return wrk.format("POST", "/api/v1/auth/token", { ["Content-Type"] = "application/json" },
      '{"account":"' .. r.account .. '","password":"' .. password .. '"}')
  end,
  overview = function(r) return page("/cabinet", r) end,
  invoices = function(r) return page("/invoices", r) end,
  charges = function(r) return page("/charges", r) end,
  meters = function(r) return page("/meters", r) end,
  payments = function(r) return page("/payments", r) end,
  readings = function(r)
    return api("POST", "/api/v1/accounts/" .. r.account .. "/readings", r, r.readings)
  end,
  card_payment = function(r)
    return api("POST", "/api/v1/payments", r, '{"shares":[{"account":"' .. r.account .. '","amount":"10.00"}]}')
  end,
  new_request = function(r, i)
    return api("POST", "/api/v1/requests", r, request_body(i), "multipart/form-data; boundary=" .. boundary)
  end,
}

function request()
  n = n + 1
  local r = residents[((id * 7919 + n * 131) % #residents) + 1]
  local pick = math.random() * total
  current = mix[#mix].name
  for _, m in ipairs(mix) do
    if pick < m.upto then
      current = m.name
      break
    end
  end
  started = now_ms()
  return builders[current](r, n)
end

function response(status, headers, body)
  out:write(current, "\t", status, "\t", string.format("%.2f", now_ms() - started), "\n")
end

function done(summary, latency, requests)
  -- Each thread's file is closed when the process ends.
end
