/**
 * A server for sweep tests: forwards every request over HTTP to the simulator at TARGET, except
 * that the health checks numbered in FAIL (1-based, comma-separated, counted by GET /health) are
 * answered 503, and so is the other health path a client may try next (GET /v1/models).
 * Usage: bun flaky-health-proxy.ts PORT TARGET FAIL
 */
const [port, target, fail] = process.argv.slice(2);
const failing = new Set((fail ?? "").split(",").filter(Boolean).map(Number));
let healthCalls = 0;
let failingNow = false;
Bun.serve({
  hostname: "127.0.0.1",
  port: Number(port),
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      healthCalls++;
      failingNow = failing.has(healthCalls);
      console.log(`health check ${healthCalls}${failingNow ? ": failing it" : ""}`);
    }
    if (failingNow && request.method === "GET" && url.pathname !== "/metrics") return new Response("overloaded", { status: 503 });
    return fetch(`${target}${url.pathname}${url.search}`, {
      method: request.method,
      headers: request.headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
    });
  },
});
console.log(`proxy listening on 127.0.0.1:${port} for ${target}`);
