/**
 * Is the client ever the bottleneck? Runs N concurrent streams against the simulator and compares
 * what llmbench measured with the simulator's truth log (when each token was written).
 *   bun bench/client-overhead.ts [CLIENTS] [OUTPUT_LEN] [ITL_MS]
 * Reports, per token, the delay between the server's write and the client's timestamp, and the
 * measured minus true TTFT and TPOT.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { quantile, readJsonl, runLlmbench, startMock } from "./lib.ts";

const clients = Number(process.argv[2] ?? 1000);
const outputLen = Number(process.argv[3] ?? 64);
const itlMs = Number(process.argv[4] ?? 20);
const dir = mkdtempSync(join(tmpdir(), "llmbench-overhead-"));
const truthPath = join(dir, "truth.jsonl");
const mock = await startMock(["--ttft-ms", "200", "--itl-ms", String(itlMs), "--truth-log", truthPath]);
const started = performance.now();
try {
  await runLlmbench([
    "run", "--base-url", mock.url, "--model", "m", "--dataset-path", join(import.meta.dir, "../datasets/sharegpt_sample.json"),
    "--output-len", String(outputLen), "--num-clients", String(clients), "--num-requests", String(clients),
    "--ramp-up-time", "1", "--result-dir", join(dir, "r"), "--no-progress",
  ]);
} finally {
  await mock.stop();
}
const wall = (performance.now() - started) / 1000;

interface Truth { token_ms: number[]; arrival_ms: number }
interface Record { send_ms: number; events: [number, number][] }
const truth = await readJsonl<Truth>(truthPath);
const records = await readJsonl<Record>(join(dir, "r/requests.jsonl"));
// Match each request with its truth entry by the time the first token was written and seen.
const byFirstWrite = [...truth].sort((a, b) => a.token_ms[0]! - b.token_ms[0]!);
const byFirstSeen = [...records].sort((a, b) => a.send_ms + a.events[0]![0] - (b.send_ms + b.events[0]![0]));
const tokenDelays: number[] = [];
const ttftError: number[] = [];
const tpotError: number[] = [];
for (let i = 0; i < byFirstSeen.length; i++) {
  const record = byFirstSeen[i]!;
  const entry = byFirstWrite[i]!;
  const seen = record.events.map(([offset]) => record.send_ms + offset);
  for (let k = 0; k < Math.min(seen.length, entry.token_ms.length); k++) tokenDelays.push(seen[k]! - entry.token_ms[k]!);
  ttftError.push(seen[0]! - record.send_ms - (entry.token_ms[0]! - entry.arrival_ms));
  const n = entry.token_ms.length;
  tpotError.push((seen.at(-1)! - seen[0]!) / (n - 1) - (entry.token_ms.at(-1)! - entry.token_ms[0]!) / (n - 1));
}
const line = (name: string, values: number[]) =>
  `${name}: median ${quantile(values, 0.5).toFixed(3)}, p90 ${quantile(values, 0.9).toFixed(3)}, p99 ${quantile(values, 0.99).toFixed(3)}, max ${Math.max(...values).toFixed(3)}`;
console.log(`\n${clients} concurrent streams × ${outputLen} tokens every ${itlMs} ms (${((clients * 1000) / itlMs).toFixed(0)} tokens/s), wall ${wall.toFixed(1)} s`);
console.log(line("server write → client timestamp, per token (ms)", tokenDelays));
console.log(line("measured − true TTFT (ms; includes connecting and sending)", ttftError));
console.log(line("measured − true TPOT (ms)", tpotError));
