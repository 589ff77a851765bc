/**
 * A local Indexed-Job simulation: N shard processes with the environment a Kubernetes Indexed Job
 * gives them (JOB_COMPLETION_INDEX, plus LLMBENCH_SHARD_COUNT), one simulator with a truth log,
 * then `llmbench merge`; compared with one process running the same seed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { statsOf } from "../src/metrics/request-stats.ts";
import { summarize } from "../src/metrics/summarize.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { arrivalSchedule } from "../src/workload/open-loop.ts";
import { DATASET, llmbenchArgv, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

type ShardRecord = RequestRecord & { shard?: number };

let mock: MockHandle;
let truthPath: string;
let root: string;
beforeAll(async () => {
  root = tempDir();
  truthPath = join(root, "truth.jsonl");
  mock = await startMock(["--ttft-ms", "15", "--itl-ms", "2", "--truth-log", truthPath, "--log-prompts"]);
});
afterAll(async () => {
  await mock?.stop();
});

async function truthCount(): Promise<number> {
  return existsSync(truthPath) ? (await readJsonl(truthPath)).length : 0;
}

function runArgs(url: string, dir: string, args: string[]): string[] {
  return ["run", "--base-url", url, "--model", "m", "--result-dir", dir, "--no-progress", ...args];
}

async function single(name: string, args: string[]) {
  const dir = join(root, name);
  const result = await runCli(runArgs(mock.url, dir, args));
  expect(result.exitCode).toBe(0);
  return { dir, summary: await Bun.file(join(dir, "summary.json")).json(), records: await readJsonl<ShardRecord>(join(dir, "requests.jsonl")) };
}

/** N processes started together as a Job starts its pods, each told its index by the environment, meeting at a start barrier. */
async function job(name: string, count: number, args: string[]) {
  const startAt = Date.now() + 4000;
  const dirs = Array.from({ length: count }, (_, index) => join(root, name, `shard-${index}`));
  const results = await Promise.all(
    dirs.map((dir, index) =>
      runCli(runArgs(mock.url, dir, [...args, "--start-at", String(startAt), "--start-tolerance", "30"]), {
        env: { JOB_COMPLETION_INDEX: String(index), LLMBENCH_SHARD_COUNT: String(count) },
      }),
    ),
  );
  for (const result of results) {
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
  }
  const shards = await Promise.all(dirs.map(async (dir) => ({ dir, file: await Bun.file(join(dir, "shard.json")).json(), records: await readJsonl<ShardRecord>(join(dir, "requests.jsonl")) })));
  const out = join(root, name, "merged");
  const merged = await runCli(["merge", ...dirs, "--out", out]);
  if (merged.exitCode !== 0) console.error(merged.stdout, merged.stderr);
  expect(merged.exitCode).toBe(0);
  return { startAt, shards, merged: await Bun.file(join(out, "summary.json")).json(), mergedCsv: readFileSync(join(out, "summary.csv"), "utf8") };
}

/** Prompt indices by user, in each user's own order. */
function sequences(records: ShardRecord[]): Map<number, number[]> {
  const byUser = new Map<number, ShardRecord[]>();
  for (const record of records) byUser.set(record.user, [...(byUser.get(record.user) ?? []), record]);
  return new Map([...byUser].map(([user, list]) => [user, list.sort((a, b) => a.seq - b.seq).map((r) => r.prompt_index)]));
}

/**
 * Each user's prompts are the (seed, user) sequence: the same in both runs as far as both went. A
 * user may send nothing in one of them (the budget can run out before its ramp-up start), but
 * most users sent in both.
 */
function expectSameSequences(records: ShardRecord[], reference: ShardRecord[]) {
  const theirs = sequences(reference);
  let compared = 0;
  for (const [user, prompts] of sequences(records)) {
    const other = theirs.get(user);
    if (!other) continue;
    const common = Math.min(prompts.length, other.length);
    expect(prompts.slice(0, common)).toEqual(other.slice(0, common));
    compared++;
  }
  expect(compared).toBeGreaterThanOrEqual(Math.ceil(theirs.size / 2));
  expect(theirs.size).toBeGreaterThanOrEqual(2);
}

/** What the merged summary must equal: the same metric code over all the shards' records. */
function expectMergedEqualsRecomputed(merged: Record<string, unknown>, records: ShardRecord[]) {
  const summary = summarize(records.map(statsOf));
  for (const key of ["requests", "completed", "total_inlen", "total_outlen", "max_inlen", "max_concurrency"] as const) expect(merged[key === "requests" ? "requests" : key]).toBe(summary[key]);
  for (const stat of ["min", "max", "mean", "median", "std", "p90", "p99"] as const) {
    expect(merged[`${stat}_ttft`]).toBe(summary.ttft![stat]);
    expect(merged[`${stat}_itl`]).toBe(summary.itl![stat]);
    expect(merged[`${stat}_e2e`]).toBe(summary.e2e![stat]);
  }
  expect(merged.duration_s).toBe(summary.duration_s);
  expect(merged.qps).toBe(summary.qps);
}

describe("an Indexed Job of shards merges into the single-process point", () => {
  test("closed loop: users split by u mod N with their global ids and prompt sequences; budget split; truth log counts each request once", async () => {
    const args = ["--dataset-path", DATASET, "--output-len", "6", "--num-clients", "6", "--num-requests", "30", "--seed", "5", "--ramp-up-time", "0.3"];
    const before = await truthCount();
    const one = await single("closed-single", args);
    const afterSingle = await truthCount();
    expect(afterSingle - before).toBe(30);
    const { shards, merged, mergedCsv } = await job("closed-job", 3, args);
    expect((await truthCount()) - afterSingle).toBe(30);

    for (const [index, shard] of shards.entries()) {
      expect(shard.file.shard).toEqual({ index, count: 3 });
      expect(shard.file.exit_reason).toBe("completed");
      expect(shard.records.length).toBe(10); // 30 split over 3
      expect(shard.records.every((r) => r.shard === index && r.user % 3 === index)).toBe(true);
    }
    expect(new Set(shards.map((s) => s.file.plan_hash)).size).toBe(1);
    const all = shards.flatMap((s) => s.records);
    expect([...new Set(all.map((r) => r.user))].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    // each user's sequence is (seed, user)'s: the same as in one process, as far as both went
    expectSameSequences(all, one.records);
    expect(merged.requests).toBe(one.summary.requests);
    expect(merged.completed).toBe(one.summary.completed);
    expect(merged.num_clients).toBe(6);
    expect(merged.merged.shard_count).toBe(3);
    expect(merged.merged.partial).toBe(false);
    expectMergedEqualsRecomputed(merged, all);
    // the CSV has the seed's header and one row
    expect(mergedCsv.split("\n")[0]).toBe(readFileSync(join(one.dir, "summary.csv"), "utf8").split("\n")[0]);
    expect(mergedCsv.trim().split("\n").length).toBe(2);
    // only shard 0 read the server's gauges
    expect(shards.map((s) => JSON.parse(readFileSync(join(s.dir, "summary.json"), "utf8")).server_gauges.status === "off")).toEqual([false, true, true]);
  }, 120_000);

  test("rate mode: the union of the shards is the global seeded schedule: the same request indices, prompts and planned offsets", async () => {
    const args = ["--dataset-path", DATASET, "--output-len", "6", "--request-rate", "40", "--burstiness", "0.5", "--num-requests", "24", "--seed", "9", "--max-concurrency", "6"];
    const one = await single("rate-single", args);
    const before = await truthCount();
    const { startAt, shards, merged } = await job("rate-job", 3, args);
    expect((await truthCount()) - before).toBe(24);

    const schedule = arrivalSchedule({ rate: 40, burstiness: 0.5, seed: 9 });
    const planned = Array.from({ length: 24 }, () => schedule());
    for (const [index, shard] of shards.entries()) {
      expect(shard.records.length).toBe(8);
      expect(shard.records.every((r) => r.shard === index && r.user % 3 === index)).toBe(true);
      expect(shard.file.share.max_concurrency).toBe(2);
      expect(shard.file.planned_start_ms).toBe(startAt);
      expect(Math.abs(shard.file.actual_start_ms - startAt)).toBeLessThan(30_000);
      for (const record of shard.records) {
        // arrival = send − client wait: its offset from this shard's start is the global schedule's
        const offset = record.send_ms - record.queue_wait_ms - shard.file.actual_start_ms;
        expect(Math.abs(offset - planned[record.user]!)).toBeLessThan(0.01);
      }
    }
    const all = shards.flatMap((s) => s.records);
    const byIndex = (records: ShardRecord[]) => new Map(records.map((r) => [r.user, r.prompt_index]));
    expect([...byIndex(all).keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 24 }, (_, j) => j));
    expect(byIndex(all)).toEqual(byIndex(one.records));
    expect(merged.requests).toBe(24);
    expect(merged.completed).toBe(one.summary.completed);
    expect(merged.total_inlen).toBe(one.summary.total_inlen);
    expect(merged.request_rate).toBe(40);
    expectMergedEqualsRecomputed(merged, all);
  }, 120_000);

  test("one shard's merge is exactly the process's own summary", async () => {
    const dir = join(root, "one-shard");
    const result = await runCli(runArgs(mock.url, dir, ["--dataset-path", DATASET, "--output-len", "5", "--num-clients", "3", "--num-requests", "12", "--shard", "0/1"]));
    expect(result.exitCode).toBe(0);
    const out = join(root, "one-shard-merged");
    expect((await runCli(["merge", dir, "--out", out])).exitCode).toBe(0);
    const own = await Bun.file(join(dir, "summary.json")).json();
    const merged = await Bun.file(join(out, "summary.json")).json();
    for (const key of Object.keys(own)) {
      if (["shard", "plan_hash", "host"].includes(key)) continue;
      expect([key, merged[key]]).toEqual([key, own[key]]);
    }
    expect(readFileSync(join(out, "summary.csv"), "utf8")).toBe(readFileSync(join(dir, "summary.csv"), "utf8"));
  }, 60_000);
});

describe("--workers: shards in processes of this executable, merged per point", () => {
  test("--workers 2 gives the counts and per-user prompt sequences of --workers 1, each worker its users", async () => {
    const args = ["--dataset-path", DATASET, "--output-len", "6", "--num-clients", "4", "--num-requests", "20", "--seed", "3", "--ramp-up-time", "0"];
    const one = await single("workers-1", [...args, "--workers", "1"]);
    const before = await truthCount();
    const dir = join(root, "workers-2");
    const result = await runCli(runArgs(mock.url, dir, [...args, "--workers", "2"]));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("2 workers");
    expect((await truthCount()) - before).toBe(20);
    const merged = await Bun.file(join(dir, "summary.json")).json();
    expect(merged.requests).toBe(one.summary.requests);
    expect(merged.completed).toBe(one.summary.completed);
    const workers = await Promise.all([0, 1].map((index) => readJsonl<ShardRecord>(join(dir, "workers", `worker-${index}`, "requests.jsonl"))));
    workers.forEach((records, index) => {
      expect(records.length).toBe(10);
      expect(records.every((r) => r.shard === index && r.user % 2 === index)).toBe(true);
    });
    const all = workers.flat();
    expectMergedEqualsRecomputed(merged, all);
    expectSameSequences(all, one.records);
  }, 120_000);
});

describe("a shard that fails", () => {
  test("a killed shard: merge exits 2 naming it; --allow-partial merges the rest and says what is missing", async () => {
    const slow = await startMock(["--ttft-ms", "20", "--itl-ms", "25"]);
    try {
      const args = ["--dataset-path", DATASET, "--output-len", "8", "--num-clients", "2", "--num-requests", "40"];
      const dirs = [0, 1].map((index) => join(root, "killed", `shard-${index}`));
      const env = (index: number) => ({ ...process.env, NO_COLOR: "1", LLMBENCH_SHARD_INDEX: String(index), LLMBENCH_SHARD_COUNT: "2" });
      const victim = Bun.spawn(llmbenchArgv(...runArgs(slow.url, dirs[1]!, args)), { env: env(1), stdout: "ignore", stderr: "ignore" });
      const survivor = runCli(runArgs(slow.url, dirs[0]!, args), { env: { LLMBENCH_SHARD_INDEX: "0", LLMBENCH_SHARD_COUNT: "2" } });
      const requests = join(dirs[1]!, "requests.jsonl");
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && !(existsSync(requests) && readFileSync(requests, "utf8").length > 0)) await Bun.sleep(50);
      victim.kill("SIGKILL");
      await victim.exited;
      expect((await survivor).exitCode).toBe(0);
      expect((await Bun.file(join(dirs[1]!, "shard.json")).json()).exit_reason).toBe("running");

      const refused = await runCli(["merge", ...dirs, "--out", join(root, "killed", "merged")]);
      expect(refused.exitCode).toBe(2);
      expect(refused.stderr).toContain(`shard 1/2 (${dirs[1]}) did not complete`);
      expect(existsSync(join(root, "killed", "merged", "summary.json"))).toBe(false);

      const partial = await runCli(["merge", ...dirs, "--out", join(root, "killed", "merged"), "--allow-partial"]);
      expect(partial.exitCode).toBe(0);
      expect(partial.stdout).toContain("partial merge: shard 1/2 did not complete");
      const merged = await Bun.file(join(root, "killed", "merged", "summary.json")).json();
      expect(merged.merged.partial).toBe(true);
      expect(merged.merged.unfinished).toEqual([1]);
      expect(merged.requests).toBe(20); // shard 0's share of 40
      // a shard given alone is missing its partner, named
      const alone = await runCli(["merge", dirs[0]!, "--out", join(root, "killed", "alone")]);
      expect(alone.exitCode).toBe(2);
      expect(alone.stderr).toContain("shard 1/2 is missing");
    } finally {
      await slow.stop();
    }
  }, 120_000);

  test("a shard that would start late exits non-zero without sending a request, and says so in shard.json", async () => {
    const before = await truthCount();
    const dir = join(root, "late");
    const result = await runCli(runArgs(mock.url, dir, ["--dataset-path", DATASET, "--output-len", "5", "--num-clients", "2", "--num-requests", "4", "--shard", "1/2", "--start-at", String(Date.now() - 5000)]));
    expect(result.exitCode).toBe(3);
    expect(result.stderr).toContain("more than the tolerance of 1 s (--start-tolerance)");
    expect((await Bun.file(join(dir, "shard.json")).json()).exit_reason).toBe("late");
    expect(await truthCount()).toBe(before);
  }, 60_000);
});
