/**
 * How much more load do N worker processes carry than one? Closed-loop clients against a simulator
 * that answers as fast as it can (TTFT 0, ITL 0): the client is the bottleneck, so the completed
 * requests and tokens per second are what the client(s) can drive.
 *   bun bench/workers.ts [--fake] [CLIENTS] [REQUESTS] [OUTPUT_LEN] [WORKERS…]
 * The simulator shares the machine's cores with the clients: on 2 cores the gain of 2 workers is
 * bounded by the simulator's own share. `--fake` serves with the bench's own fake SSE server
 * instead (bench/fake-sse-server.ts --burst: each answer's events in one write, built once), so that
 * nearly all of the machine is left to the clients.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runLlmbench, startFakeServer, startMock } from "./lib.ts";

const fake = process.argv.includes("--fake");
const positional = process.argv.slice(2).filter((arg) => arg !== "--fake");
const clients = Number(positional[0] ?? 256);
const requests = Number(positional[1] ?? 6000);
const outputLen = Number(positional[2] ?? 32);
const workerCounts = positional.length > 3 ? positional.slice(3).map(Number) : [1, 2];
const dir = mkdtempSync(join(tmpdir(), "llmbench-workers-"));
const mock = fake ? await startFakeServer({ itlMs: 1, tokens: outputLen, truth: join(dir, "truth.jsonl"), burst: true }) : await startMock(["--ttft-ms", "0", "--itl-ms", "0"]);
try {
  for (const workers of workerCounts) {
    const out = join(dir, `w${workers}`);
    const started = performance.now();
    await runLlmbench([
      "run", "--base-url", mock.url, "--model", "m", "--dataset", "synthetic", "--input-len", "64", "--output-len", String(outputLen),
      "--num-clients", String(clients), "--num-requests", String(requests), "--ramp-up-time", "0", "--result-dir", out, "--no-progress",
      "--no-server-metrics", "--workers", String(workers),
    ].filter(Boolean));
    const wall = (performance.now() - started) / 1000;
    const summary = await Bun.file(join(out, "summary.json")).json();
    console.error(
      `workers ${workers}: ${summary.completed} completed in ${summary.duration_s.toFixed(2)} s → ${summary.qps.toFixed(0)} req/s, ${summary.o_tps.toFixed(0)} output tok/s; ` +
        `mean TTFT ${summary.mean_ttft.toFixed(1)} ms (wall ${wall.toFixed(1)} s)`,
    );
  }
} finally {
  await mock.stop();
}
