/**
 * `sweep --workers N`: each point run as N shards in N worker processes, merged per point. The
 * same counts and per-user prompt sequences as --workers 1, the simulator serving each request
 * once, and the merged summary what the metric code computes over the workers' records.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { statsOf } from "../src/metrics/request-stats.ts";
import { summarize } from "../src/metrics/summarize.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { writeRunningSweepConfig } from "./helpers/sweep-config.ts";

type ShardRecord = RequestRecord & { shard?: number };

let mock: MockHandle;
let root: string;
let truthPath: string;
beforeAll(async () => {
  root = tempDir();
  truthPath = join(root, "truth.jsonl");
  mock = await startMock(["--ttft-ms", "10", "--itl-ms", "2", "--truth-log", truthPath]);
});
afterAll(async () => {
  await mock?.stop();
});

function writeConfig(dir: string): string {
  return writeRunningSweepConfig(join(dir, "bench.config.ts"), mock.url, { outputLen: 6, sweep: { clients: [1, 4], rampUpS: 0, numRequests: 24, drainTimeoutS: 10, seed: 11 } });
}

async function sweep(name: string, workers: string) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const result = await runCli(["sweep", writeConfig(dir), "--output-dir", join(dir, "result"), "--workers", workers, "--no-progress", "--no-doctor"], { timeoutMs: 100_000 });
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  expect(result.exitCode).toBe(0);
  const dates = readdirSync(join(dir, "result")).filter((entry) => /^\d{4}-/.test(entry));
  const runDir = join(dir, "result", dates[0]!, readdirSync(join(dir, "result", dates[0]!))[0]!);
  const points = readdirSync(runDir).filter((entry) => /^\d\d_/.test(entry)).sort();
  return { result, runDir, points };
}

function sequences(records: ShardRecord[]): Map<number, number[]> {
  const byUser = new Map<number, ShardRecord[]>();
  for (const record of records) byUser.set(record.user, [...(byUser.get(record.user) ?? []), record]);
  return new Map([...byUser].sort((a, b) => a[0] - b[0]).map(([user, list]) => [user, list.sort((a, b) => a.seq - b.seq).map((r) => r.prompt_index)]));
}

test("sweep --workers 2: the counts and per-user prompt sequences of --workers 1, each worker its users, merged per point", async () => {
  const one = await sweep("workers-1", "1");
  const truthAfterOne = (await readJsonl(truthPath)).length;
  expect(truthAfterOne).toBe(48);
  const two = await sweep("workers-2", "2");
  expect((await readJsonl(truthPath)).length - truthAfterOne).toBe(48); // each request served once
  expect(two.result.stdout).toContain("workers     2 processes per point");
  expect(two.points).toEqual(one.points);
  expect(two.points).toEqual(["01_clients-1", "02_clients-4"]);

  // one client cannot be split: that point ran in this process
  expect(existsSync(join(two.runDir, "01_clients-1", "workers"))).toBe(false);

  const point = "02_clients-4";
  const single = await readJsonl<ShardRecord>(join(one.runDir, point, "requests.jsonl"));
  const workers = await Promise.all([0, 1].map((index) => readJsonl<ShardRecord>(join(two.runDir, point, "workers", `worker-${index}`, "requests.jsonl"))));
  workers.forEach((records, index) => {
    expect(records.length).toBe(12); // 24 split over 2
    expect(records.every((r) => r.shard === index && r.user % 2 === index)).toBe(true);
  });
  const all = workers.flat();
  // with no ramp-up and a budget of 24 over 4 users, each user sends about 6: compare where both went
  const theirs = sequences(single);
  const ours = sequences(all);
  expect([...ours.keys()]).toEqual([0, 1, 2, 3]);
  for (const [user, prompts] of ours) {
    const other = theirs.get(user)!;
    const common = Math.min(prompts.length, other.length);
    expect(common).toBeGreaterThan(0);
    expect(prompts.slice(0, common)).toEqual(other.slice(0, common));
  }

  const merged = await Bun.file(join(two.runDir, point, "summary.json")).json();
  const reference = await Bun.file(join(one.runDir, point, "summary.json")).json();
  expect(merged.requests).toBe(reference.requests);
  expect(merged.completed).toBe(reference.completed);
  expect(merged.num_clients).toBe(4);
  expect(merged.merged.shard_count).toBe(2);
  expect(merged.point).toBe("clients=4");
  const summary = summarize(all.map(statsOf));
  for (const stat of ["mean", "median", "p99"] as const) {
    expect(merged[`${stat}_ttft`]).toBe(summary.ttft![stat]);
    expect(merged[`${stat}_itl`]).toBe(summary.itl![stat]);
  }
  // the sweep's own summary lists the merged point
  const sweepSummary = await Bun.file(join(two.runDir, "summary.json")).json();
  expect(JSON.stringify(sweepSummary)).toContain("clients=4");
}, 180_000);
