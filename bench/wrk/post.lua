-- POST one JSON body on every request and print the run's numbers as one JSON line.
--
-- The body comes from the file named by BENCH_BODY; headers are given to wrk with -H.
-- Latencies are wrk's own histogram, in microseconds; "errors" adds up every failure wrk
-- counts (connect, read, write, timeout and non-2xx/3xx statuses).

local file = assert(io.open(os.getenv("BENCH_BODY"), "rb"))
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "errors": %d, "non_2xx": %d, '
      .. '"p50_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout + e.status,
    e.status, latency:percentile(50), latency:percentile(99), latency.max, latency.mean
  ))
end
