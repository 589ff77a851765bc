/**
 * How accurately rate mode keeps its schedule: a Poisson process at 200 requests/s against the
 * simulator; compares each request's real send time with its scheduled arrival.
 *   bun bench/rate-accuracy.ts [RATE] [REQUESTS]
 * Goal: achieved rate within 2 % of the target, arrivals within 1 ms of their schedule.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { arrivalSchedule } from "../src/workload/open-loop.ts";
import { quantile, readJsonl, runLlmbench, startMock } from "./lib.ts";

const rate = Number(process.argv[2] ?? 200);
// 6,000 Poisson arrivals: the draw's own rate is within about 1.3 % (one sigma) of the target.
const requests = Number(process.argv[3] ?? 6000);
const seed = 42;
const dir = mkdtempSync(join(tmpdir(), "llmbench-rate-"));
const mock = await startMock(["--ttft-ms", "20", "--itl-ms", "5"]);
try {
  await runLlmbench([
    "run", "--base-url", mock.url, "--model", "m", "--dataset-path", join(import.meta.dir, "../datasets/sharegpt_sample.json"),
    "--output-len", "16", "--request-rate", String(rate), "--num-requests", String(requests), "--seed", String(seed),
    "--result-dir", dir, "--no-progress",
  ]);
} finally {
  await mock.stop();
}

const records = await readJsonl<{ user: number; send_ms: number; status: string }>(join(dir, "requests.jsonl"));
records.sort((a, b) => a.user - b.user); // in rate mode, user = the request's index j
const next = arrivalSchedule({ rate, burstiness: 1, seed });
const scheduled = records.map(() => next());
// The loop's start is not recorded; the scheduler never sends early, so the smallest
// (send − scheduled offset) is the best estimate of it, and every lateness is measured from there.
const offsets = records.map((r, j) => r.send_ms - scheduled[j]!);
const start = Math.min(...offsets);
const lateness = offsets.map((offset) => offset - start);
const span = (records.at(-1)!.send_ms - records[0]!.send_ms) / 1000;
const achieved = (records.length - 1) / span;
const scheduledRate = (scheduled.length - 1) / (scheduled.at(-1)! / 1000);
console.log(`\nrate mode at ${rate} req/s, ${records.length} requests (${records.filter((r) => r.status === "ok").length} ok)`);
console.log(`achieved arrival rate ${achieved.toFixed(2)} req/s: ${(((achieved - rate) / rate) * 100).toFixed(2)} % from the target` +
  ` (the seeded schedule itself: ${scheduledRate.toFixed(2)} req/s, ${(((achieved - scheduledRate) / scheduledRate) * 100).toFixed(3)} % from it)`);
console.log(`send time − scheduled arrival (ms): median ${quantile(lateness, 0.5).toFixed(3)}, p99 ${quantile(lateness, 0.99).toFixed(3)},` +
  ` max ${Math.max(...lateness).toFixed(3)}, min ${Math.min(...lateness).toFixed(3)}`);
console.log(`within 1 ms of schedule: ${((lateness.filter((e) => Math.abs(e) <= 1).length / lateness.length) * 100).toFixed(2)} %`);
