-- wrk script: each request takes the next path from PATHS (set by run.py through paths.lua),
-- sends the session cookie or token given in HEADERS, and the summary prints percentiles.
local paths = dofile(os.getenv("HINDSIGHT_BENCH_PATHS"))
local counter = 0

request = function()
  counter = counter + 1
  local path = paths[(counter % #paths) + 1]
  return wrk.format("GET", path, { ["Cookie"] = os.getenv("HINDSIGHT_BENCH_COOKIE"),
                                   ["Authorization"] = os.getenv("HINDSIGHT_BENCH_AUTH") })
end

done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT p50=%.1f p95=%.1f p99=%.1f rps=%.1f requests=%d errors=%d\n",
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests / (summary.duration / 1e6), summary.requests, errors))
end
