-- wrk script for scripts/bench_serve.py: one endpoint, bodies cycled from a file, a bound on the count,
-- and the figures printed as one JSON line (prefixed BENCH_JSON) for the Python side to read.
--
--   wrk -t1 -c8 -d5s -s scripts/bench_serve.lua http://127.0.0.1:8000 -- POST /predict bodies.jsonl 100000
--   wrk -t1 -c8 -d5s -s scripts/bench_serve.lua http://127.0.0.1:8000 -- GET /health - 100000
--
-- Arguments after "--": METHOD PATH BODIES_FILE (one JSON body per line, a .png sent whole, "-" for none) MAX_REQUESTS
-- (per wrk thread; 0 = only the duration bounds the run). Requests are formatted once, up front, so
-- the script costs wrk next to nothing per request.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local method, path, bodies_file = args[1], args[2], args[3]
  max_requests = tonumber(args[4] or "0")
  answered = 0
  not_2xx = 0
  prepared = {}
  position = 1
  if bodies_file == nil or bodies_file == "-" then
    prepared[1] = wrk.format(method, path)
  elseif bodies_file:match("%.png$") then
    -- one picture, sent as it is (binary: not a line of text)
    local file = assert(io.open(bodies_file, "rb"))
    prepared[1] = wrk.format(method, path, { ["Content-Type"] = "image/png" }, file:read("*a"))
    file:close()
  else
    local headers = { ["Content-Type"] = "application/json" }
    for line in io.lines(bodies_file) do
      prepared[#prepared + 1] = wrk.format(method, path, headers, line)
    end
  end
end

function request()
  local next_request = prepared[position]
  position = position % #prepared + 1
  return next_request
end

function response(status, headers, body)
  answered = answered + 1
  if status < 200 or status > 299 then
    not_2xx = not_2xx + 1
  end
  if max_requests > 0 and answered >= max_requests then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local total_not_2xx = 0
  for _, thread in ipairs(threads) do
    total_not_2xx = total_not_2xx + thread:get("not_2xx")
  end
  local errors = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "not_2xx": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes, total_not_2xx,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
