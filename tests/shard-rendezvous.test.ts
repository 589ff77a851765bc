/**
 * The rendezvous (--rendezvous host:port): the clock offset from ping-pongs, the announced start on
 * each shard's own clock, the bounded waits that name who is missing, and a shard whose wall clock
 * is 5 s ahead (Debian's faketime) whose timeline `llmbench merge` moves back onto shard 0's.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { offsetFromPings, parseRendezvousAddress, rendezvous, RendezvousFailed, wallClock } from "../src/runner/rendezvous.ts";
import { freePort } from "../src/server/free-port.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS, mean, median, type TruthTiming } from "./helpers/truth.ts";

type ShardRecord = RequestRecord & { shard: number };
type TruthEntry = TruthTiming & { prompt_tokens: number };

describe("clock offset and start, in one process", () => {
  test("the offset comes from the ping of least round trip: (t0 + t1) / 2 − shard 0's time", () => {
    const result = offsetFromPings([
      { t0: 1000, s: 5, t1: 1030 }, // RTT 30
      { t0: 2000, s: 1003, t1: 2004 }, // RTT 4: offset (2000 + 2004) / 2 − 1003 = 999
      { t0: 3000, s: 1990, t1: 3010 }, // RTT 10
    ]);
    expect(result).toEqual({ offsetMs: 999, rttMs: 4, pings: 3 });
  });

  test("addresses: host:port, [v6]:port; anything else is refused with what was expected", () => {
    expect(parseRendezvousAddress("llmbench-0.llmbench:7700")).toEqual({ host: "llmbench-0.llmbench", port: 7700 });
    expect(parseRendezvousAddress("[::1]:9")).toEqual({ host: "::1", port: 9 });
    expect(parseRendezvousAddress("127.0.0.1")).toContain("expected host:port");
    expect(parseRendezvousAddress("h:70000")).toContain("not in 1 … 65535");
  });

  test("a shard whose clock is 5 s ahead measures an offset of 5 s and gets the start on its own clock", async () => {
    const address = { host: "127.0.0.1", port: freePort() };
    const common = { address, planHash: "p", timeoutMs: 10_000 };
    const [zero, one, two] = await Promise.all([
      rendezvous({ ...common, shard: { index: 0, count: 3 } }),
      rendezvous({ ...common, shard: { index: 1, count: 3 }, clock: () => wallClock() + 5000 }),
      rendezvous({ ...common, shard: { index: 2, count: 3 } }),
    ]);
    expect(zero.offsetMs).toBe(0);
    expect(Math.abs(one.offsetMs - 5000)).toBeLessThan(one.rttMs! / 2 + CLOCK_SLACK_MS);
    expect(Math.abs(two.offsetMs)).toBeLessThan(two.rttMs! / 2 + CLOCK_SLACK_MS);
    expect(one.pings).toBe(8);
    for (const shard of [one, two]) expect(shard.startAtShardZeroMs).toBe(zero.startAtMs);
    expect(one.startAtMs).toBe(zero.startAtMs + one.offsetMs);
    // the start lies ahead of the last check-in on every clock
    expect(zero.startAtMs).toBeGreaterThan(wallClock());
  }, 30_000);

  test("a shard of another plan is refused by shard 0, and both say which shard and why", async () => {
    const address = { host: "127.0.0.1", port: freePort() };
    const results = await Promise.allSettled([
      rendezvous({ address, planHash: "aaaa", timeoutMs: 10_000, shard: { index: 0, count: 2 } }),
      rendezvous({ address, planHash: "bbbb", timeoutMs: 10_000, shard: { index: 1, count: 2 } }),
    ]);
    for (const result of results) {
      expect(result.status).toBe("rejected");
      const error = (result as PromiseRejectedResult).reason as Error;
      expect(error).toBeInstanceOf(RendezvousFailed);
      expect(error.message).toContain("shard 1/2 has a different plan (hash bbbb; shard 0 has aaaa");
    }
  }, 30_000);
});

describe("shards at a rendezvous, as processes", () => {
  let mock: MockHandle;
  let truthPath: string;
  let root: string;
  beforeAll(async () => {
    root = tempDir();
    truthPath = join(root, "truth.jsonl");
    mock = await startMock(["--ttft-ms", "15", "--itl-ms", "2", "--truth-log", truthPath]);
  });
  afterAll(async () => {
    await mock?.stop();
  });
  const truth = async () => (existsSync(truthPath) ? await readJsonl<TruthEntry>(truthPath) : []);
  const args = (dir: string, port: number, extra: string[]) => [
    "run", "--base-url", mock.url, "--model", "m", "--result-dir", dir, "--no-progress",
    "--dataset-path", DATASET, "--output-len", "6", "--seed", "4", "--rendezvous", `127.0.0.1:${port}`, ...extra,
  ];
  const shardEnv = (index: number, count: number) => ({ LLMBENCH_SHARD_INDEX: String(index), LLMBENCH_SHARD_COUNT: String(count) });

  test("a missing shard: shard 0 and the shard that came exit 4 naming it, and nothing is sent", async () => {
    const before = (await truth()).length;
    const port = freePort();
    const dirs = [0, 1].map((index) => join(root, "missing", `shard-${index}`));
    const extra = ["--num-clients", "3", "--num-requests", "6", "--rendezvous-timeout", "4"];
    const [zero, one] = await Promise.all(dirs.map((dir, index) => runCli(args(dir, port, extra), { env: shardEnv(index, 3) })));
    expect(zero.exitCode).toBe(4);
    expect(zero.stderr).toContain("shard 0 waited 4 s (--rendezvous-timeout) and shard 2/3 did not check in");
    expect(one.exitCode).toBe(4);
    expect(one.stderr).toContain("shard 1/3: shard 0 gave up");
    expect(one.stderr).toContain("shard 2/3 did not check in");
    for (const dir of dirs) expect((await Bun.file(join(dir, "shard.json")).json()).exit_reason).toBe("rendezvous-failed");
    expect((await truth()).length).toBe(before);
  }, 60_000);

  test("no shard 0: a shard gives up after the timeout, naming the address it tried", async () => {
    const port = freePort();
    const result = await runCli(args(join(root, "alone"), port, ["--num-clients", "2", "--num-requests", "2", "--rendezvous-timeout", "2"]), { env: shardEnv(1, 2) });
    expect(result.exitCode).toBe(4);
    expect(result.stderr).toContain(`shard 1/2: shard 0 at 127.0.0.1:${port} did not answer within 2 s (--rendezvous-timeout)`);
  }, 60_000);

  test("--rendezvous needs a shard and excludes --start-at (exit 2 before any request)", async () => {
    const lone = await runCli(args(join(root, "usage"), 1, ["--num-clients", "1", "--num-requests", "1"]));
    expect(lone.exitCode).toBe(2);
    expect(lone.stderr).toContain("--rendezvous: only a shard meets the others there");
    const both = await runCli(args(join(root, "usage"), 1, ["--num-clients", "2", "--num-requests", "2", "--start-at", String(Date.now())]), { env: shardEnv(0, 2) });
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--rendezvous and --start-at");
    const bad = await runCli(args(join(root, "usage"), 1, ["--num-clients", "2", "--num-requests", "2"]).map((arg) => (arg === "127.0.0.1:1" ? "no-port" : arg)), { env: shardEnv(0, 2) });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--rendezvous: expected host:port");
  }, 60_000);

  const faketime = Bun.which("faketime");
  // in CI (.ci/run installs it) the test always runs: a missing faketime fails it there
  const skipFaketime = faketime === null && process.env.CI !== "true";
  if (skipFaketime) console.warn("\n⚠️  SKIPPED: the clock-skew test needs Debian's faketime (apt-get install faketime; .ci/run installs it)\n");
  test.skipIf(skipFaketime)("a shard 5 s ahead (faketime): offset ≈ 5 s, the same TTFTs as the server's, and merge moves its timeline back", async () => {
    const before = (await truth()).length;
    const port = freePort();
    const count = 3;
    const dirs = Array.from({ length: count }, (_, index) => join(root, "skew", `shard-${index}`));
    const extra = ["--num-clients", "6", "--num-requests", "36", "--ramp-up-time", "0.3", "--rendezvous-timeout", "60"];
    expect(faketime).not.toBeNull();
    const results = await Promise.all(
      dirs.map((dir, index) => {
        const run = args(dir, port, extra);
        if (index !== 2) return runCli(run, { env: shardEnv(index, count) });
        // faketime's LD_PRELOAD works on the Bun executable (it links glibc): Date.now and
        // performance.timeOrigin both read 5 s ahead; the monotonic clock is left alone
        return runCli(run, { env: { ...shardEnv(index, count), FAKETIME_DONT_FAKE_MONOTONIC: "1" }, prefix: [faketime!, "-f", "+5s"] });
      }),
    );
    for (const result of results) {
      if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
      expect(result.exitCode).toBe(0);
    }
    const shards = await Promise.all(dirs.map(async (dir) => ({ file: await Bun.file(join(dir, "shard.json")).json(), records: await readJsonl<ShardRecord>(join(dir, "requests.jsonl")) })));
    const skewed = shards[2]!;
    // the faked clock really is ahead: its records' send times are 5 s after the server's arrivals
    expect(skewed.file.clock.offset_ms).toBeGreaterThan(4900);
    expect(skewed.file.clock.offset_ms).toBeLessThan(5100);
    expect(Math.abs(shards[1]!.file.clock.offset_ms)).toBeLessThan(100);
    expect(shards[0]!.file.clock).toEqual({ offset_ms: 0, rtt_ms: null, pings: 0, rendezvous: `127.0.0.1:${port}` });
    // the start each shard waited for is the same moment: shard 0's start plus the shard's offset
    for (const shard of shards) expect(shard.file.planned_start_ms - shard.file.clock.offset_ms).toBeCloseTo(shards[0]!.file.planned_start_ms, 6);

    const served = (await truth()).slice(before);
    expect(served.length).toBe(36);
    // each of the skewed shard's requests, moved onto the server's clock by the offset, is one the server served then
    const offset = skewed.file.clock.offset_ms;
    const lags: number[] = [];
    const distances: number[] = [];
    for (const record of skewed.records) {
      const sentAt = record.send_ms - offset;
      const candidates = served.filter((entry) => entry.prompt_tokens === record.server_in_tokens || entry.prompt_tokens === record.in_tokens);
      const nearest = candidates.reduce((best, entry) => (Math.abs(entry.arrival_ms - sentAt) < Math.abs(best.arrival_ms - sentAt) ? entry : best), candidates[0]!);
      distances.push(Math.abs(nearest.arrival_ms - sentAt));
      // the TTFT measured under the faked clock against the server's own (arrival to first write)
      lags.push(record.ttft_ms! - (nearest.token_ms[0]! - nearest.arrival_ms));
    }
    expect(lags.length).toBe(12);
    // uncorrected, every one would be 5 s off; corrected, a loaded machine may hold one back by tens of ms
    expect(median(distances)).toBeLessThan(DELIVERY_TOLERANCE_MS);
    expect(Math.max(...distances)).toBeLessThan(1000);
    expect(Math.min(...lags)).toBeGreaterThan(-CLOCK_SLACK_MS);
    expect(mean(lags)).toBeLessThan(DELIVERY_TOLERANCE_MS);

    const out = join(root, "skew", "merged");
    const merged = await runCli(["merge", ...dirs, "--out", out]);
    expect(merged.exitCode).toBe(0);
    expect(merged.stdout).toMatch(/timeline corrected with the clock offsets to shard 0 measured at the rendezvous: shard 0 \+0\.0 ms, shard 1 [+−]\d+\.\d ms, shard 2 \+5\d{3}\.\d ms|shard 2 \+49\d\d\.\d ms/);
    const summary = await Bun.file(join(out, "summary.json")).json();
    expect(summary.merged.clock_offsets_ms["2"]).toBe(offset);
    // corrected, the shards started together; the uncorrected starts are 5 s apart
    expect(summary.merged.start_spread_ms).toBeLessThan(1000);
    const rawStarts = shards.map((shard) => shard.file.actual_start_ms);
    expect(Math.max(...rawStarts) - Math.min(...rawStarts)).toBeGreaterThan(4000);
    // the merged timeline spans what the server saw, not 5 s more
    const serverSpanS = (Math.max(...served.map((entry) => entry.end_ms)) - Math.min(...served.map((entry) => entry.arrival_ms))) / 1000;
    expect(Math.abs(summary.duration_s - serverSpanS)).toBeLessThan(0.5);
  }, 120_000);
});
