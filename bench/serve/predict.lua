-- One row a request, as a client scoring customers one by one: 10,000 distinct customers, so
-- sticky routing spreads them over both arms of a rollout.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local counter = 0
request = function()
  counter = counter + 1
  local body = '{"entity_id":"c' .. (counter % 10000) .. '","features":{"age":39.3,"income":14000,"tenure_months":104,"products":3,"days_since_purchase":9,"web_visits":4,"channel":"app","region":"west"}}'
  return wrk.format(nil, nil, nil, body)
end

local non200 = 0
response = function(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%d timeouts=%d connect=%d read=%d write=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    summary.errors.status, summary.errors.timeout, summary.errors.connect, summary.errors.read, summary.errors.write))
end
