-- POST a subscription with a fresh address per request; print a JSON summary.
local counter = 0
local thread_id = 0
local threads = {}
local body_template = os.getenv("BENCH_BODY") or "email=%s&full_name=Bench+Reader"
local cookie = os.getenv("BENCH_COOKIE")
local origin = os.getenv("BENCH_ORIGIN")
local path = os.getenv("BENCH_PATH") or "/subscribe"

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  thread_id = id
  math.randomseed(os.time() + id)
end

function request()
  counter = counter + 1
  local email = string.format("r%d-%d-%d@example.com", thread_id, counter, math.random(1, 1e9))
  local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  if cookie then headers["Cookie"] = cookie end
  if origin then headers["Origin"] = origin end
  return wrk.format("POST", path, headers, string.format(body_template, email))
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
               + summary.errors.status + summary.errors.timeout
  io.write(string.format(
    '{"rps": %.2f, "p50_us": %d, "p99_us": %d, "requests": %d, "errors": %d}\n',
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    summary.requests, errors))
end
