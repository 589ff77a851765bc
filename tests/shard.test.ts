import { describe, expect, test } from "bun:test";
import { planHash, type ShardFile } from "../src/archive/shard-file.ts";
import { checkShardFits, parseShard, parseStartAt } from "../src/config/shard-options.ts";
import { UsageError } from "../src/config/usage-error.ts";
import { checkShardSet, type ShardFolder } from "../src/merge/shard-set.ts";
import { arrivalSchedule } from "../src/workload/open-loop.ts";
import { closedLoopShare, ownsRequest, shareOf, usersOfShard } from "../src/workload/shards.ts";

const shards = (count: number) => Array.from({ length: count }, (_, index) => ({ index, count }));

describe("the shard split", () => {
  test("shares of a total add up to it and differ by at most one, the larger ones first", () => {
    for (const total of [1, 2, 3, 7, 10, 64, 1001]) {
      for (const count of [1, 2, 3, 4, 7]) {
        if (total < count) continue;
        const shares = shards(count).map((shard) => shareOf(total, shard));
        expect(shares.reduce((a, b) => a + b, 0)).toBe(total);
        expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1);
        expect([...shares].sort((a, b) => b - a)).toEqual(shares);
      }
    }
    expect(shards(3).map((shard) => shareOf(10, shard))).toEqual([4, 3, 3]);
  });

  test("users: shard K runs the global ids u with u mod N = K; together exactly 0 … clients − 1", () => {
    expect(usersOfShard(10, { index: 1, count: 3 })).toEqual([1, 4, 7]);
    expect(usersOfShard(10, { index: 0, count: 3 })).toEqual([0, 3, 6, 9]);
    for (const count of [1, 2, 3, 5]) {
      const all = shards(count).flatMap((shard) => usersOfShard(11, shard)).sort((a, b) => a - b);
      expect(all).toEqual(Array.from({ length: 11 }, (_, u) => u));
    }
    expect(closedLoopShare(8, 25, { index: 2, count: 4 })).toEqual({ users: [2, 6], maxRequests: 6 });
    expect(closedLoopShare(8, null, { index: 0, count: 4 }).maxRequests).toBeNull();
  });

  test("rate mode: each request index of the schedule belongs to exactly one shard, and the shares match the budget split", () => {
    for (const count of [1, 2, 3, 4]) {
      for (let request = 0; request < 50; request++) {
        expect(shards(count).filter((shard) => ownsRequest(request, shard)).length).toBe(1);
      }
      for (const shard of shards(count)) {
        let owned = 0;
        for (let request = 0; request < 50; request++) if (ownsRequest(request, shard)) owned++;
        expect(owned).toBe(shareOf(50, shard));
      }
    }
  });

  test("every shard computes the same global arrival schedule from the seed", () => {
    const take = (next: () => number) => Array.from({ length: 20 }, () => next());
    const a = take(arrivalSchedule({ rate: 10, burstiness: 0.5, seed: 3 }));
    const b = take(arrivalSchedule({ rate: 10, burstiness: 0.5, seed: 3 }));
    expect(b).toEqual(a);
    expect(take(arrivalSchedule({ rate: 10, burstiness: 0.5, seed: 4 }))).not.toEqual(a);
  });
});

describe("the shard's identity and start", () => {
  test("--shard K/N wins; the environment of an Indexed Job otherwise", () => {
    expect(parseShard("1/4", { JOB_COMPLETION_INDEX: "3", LLMBENCH_SHARD_COUNT: "4" })).toEqual({ index: 1, count: 4 });
    expect(parseShard(undefined, { JOB_COMPLETION_INDEX: "3", LLMBENCH_SHARD_COUNT: "4" })).toEqual({ index: 3, count: 4 });
    expect(parseShard(undefined, { LLMBENCH_SHARD_INDEX: "0", LLMBENCH_SHARD_COUNT: "2" })).toEqual({ index: 0, count: 2 });
    expect(parseShard(undefined, {})).toBeNull();
  });

  test("bad shard settings are usage errors naming the flag or variable", () => {
    const error = (raw: unknown, env: Record<string, string>) => {
      try {
        parseShard(raw, env);
      } catch (caught) {
        expect(caught).toBeInstanceOf(UsageError);
        return (caught as Error).message;
      }
      throw new Error("expected a UsageError");
    };
    expect(error("4/4", {})).toContain("--shard: shard index 4 is not below the count 4");
    expect(error("1-4", {})).toContain("--shard: expected K/N");
    expect(error(undefined, { JOB_COMPLETION_INDEX: "1" })).toContain("LLMBENCH_SHARD_COUNT is not");
    expect(error(undefined, { LLMBENCH_SHARD_COUNT: "3" })).toContain("no shard index");
    expect(error(undefined, { JOB_COMPLETION_INDEX: "1", LLMBENCH_SHARD_INDEX: "2", LLMBENCH_SHARD_COUNT: "3" })).toContain("disagree");
    expect(error(undefined, { LLMBENCH_SHARD_INDEX: "x", LLMBENCH_SHARD_COUNT: "3" })).toContain("LLMBENCH_SHARD_INDEX: expected a whole number");
    expect(() => checkShardFits({ index: 0, count: 4 }, { requestRate: null, numClients: 3, numRequests: 10, maxConcurrency: null })).toThrow("3 clients cannot be split over 4 shards");
    expect(() => checkShardFits({ index: 0, count: 4 }, { requestRate: 5, numClients: 1, numRequests: 10, maxConcurrency: 2 })).toThrow("--max-concurrency 2 cannot be split");
    expect(() => checkShardFits({ index: 0, count: 4 }, { requestRate: 5, numClients: 1, numRequests: 3, maxConcurrency: null })).toThrow("--num-requests 3 cannot be split");
  });

  test("--start-at takes epoch ms or an ISO time with a zone", () => {
    expect(parseStartAt("1796160602782")).toBe(1796160602782);
    expect(parseStartAt("2026-12-01T22:00:00Z")).toBe(Date.UTC(2026, 11, 1, 22, 0, 0));
    expect(parseStartAt("2026-12-01T23:00:00+01:00")).toBe(Date.UTC(2026, 11, 1, 22, 0, 0));
    expect(parseStartAt(undefined)).toBeNull();
    expect(() => parseStartAt("2026-12-01 22:00")).toThrow("--start-at: expected epoch milliseconds or an ISO time");
  });

  test("the plan hash does not depend on key order and changes with any setting", () => {
    expect(planHash({ a: 1, b: { c: 2, d: [1, 2] } })).toBe(planHash({ b: { d: [1, 2], c: 2 }, a: 1 }));
    expect(planHash({ a: 1, b: { c: 2, d: [1, 2] } })).not.toBe(planHash({ a: 1, b: { c: 3, d: [1, 2] } }));
  });
});

describe("which shard folders merge", () => {
  const folder = (index: number, count: number, options: Partial<ShardFile> = {}): ShardFolder => ({
    dir: `/r/s${index}`,
    file: {
      plan_hash: "p1", plan: {}, shard: { index, count }, host: "h", llmbench: "0", planned_start_ms: null, actual_start_ms: 0,
      share: {}, counts: { records: 1, sent: 1, completed: 1, failed: 0 }, exit_reason: "completed", steady_window_ms: [0, 1], ...options,
    },
  });
  const messageOf = (action: () => unknown) => {
    try {
      action();
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return (error as Error).message;
    }
    throw new Error("expected a UsageError");
  };

  test("a complete set merges, in shard order", () => {
    const set = checkShardSet([folder(2, 3), folder(0, 3), folder(1, 3)], false);
    expect(set.included.map((f) => f.file.shard.index)).toEqual([0, 1, 2]);
    expect(set.missing).toEqual([]);
  });

  test("different plans, duplicates and missing or unfinished shards are refused, named", () => {
    expect(messageOf(() => checkShardSet([folder(0, 2), folder(1, 2, { plan_hash: "p2" })], false))).toContain("plan p2: shard 1/2 (/r/s1)");
    expect(messageOf(() => checkShardSet([folder(0, 2), { ...folder(0, 2), dir: "/r/again" }, folder(1, 2)], false))).toContain("shard 0/2 is given 2 times: /r/s0, /r/again");
    expect(messageOf(() => checkShardSet([folder(0, 3), folder(2, 3)], false))).toContain("shard 1/3 is missing");
    expect(messageOf(() => checkShardSet([folder(0, 2), folder(1, 2, { exit_reason: "running" })], false))).toContain("shard 1/2 (/r/s1) did not complete (exit reason \"running\": killed or still running)");
  });

  test("shards planned to start far apart are of different runs: refused, even partial; the clock offsets are taken into account", () => {
    const at = Date.parse("2026-12-01T22:00:00Z");
    const message = messageOf(() => checkShardSet([folder(0, 2, { planned_start_ms: at }), folder(1, 2, { planned_start_ms: at - 3_600_000 })], true));
    expect(message).toContain("the shards were planned to start 3600.0 s apart, so they are not one run of the point");
    expect(message).toContain("shard 1/2 (/r/s1) at 2026-12-01T21:00:00.000Z, shard 0/2 (/r/s0) at 2026-12-01T22:00:00.000Z");
    // a host whose clock is 30 s ahead planned the rendezvous's start 30 s later on its own clock: the same start
    const skewed = folder(1, 2, { planned_start_ms: at + 30_000, clock: { offset_ms: 30_000, rtt_ms: 1, pings: 8, rendezvous: "h:1" } });
    expect(checkShardSet([folder(0, 2, { planned_start_ms: at }), skewed], false).included.length).toBe(2);
    // without the offset, 30 s apart would be two runs
    expect(messageOf(() => checkShardSet([folder(0, 2, { planned_start_ms: at }), { ...skewed, file: { ...skewed.file, clock: null } }], false))).toContain("30.0 s apart");
    // a shard that never reached its barrier (no planned start) is not compared
    expect(checkShardSet([folder(0, 2, { planned_start_ms: at }), folder(1, 2)], false).included.length).toBe(2);
  });

  test("--allow-partial merges the complete shards and keeps what it left out", () => {
    const set = checkShardSet([folder(0, 4), folder(1, 4, { exit_reason: "late" }), folder(3, 4)], true);
    expect(set.included.map((f) => f.file.shard.index)).toEqual([0, 3]);
    expect(set.missing).toEqual([2]);
    expect(set.unfinished.map((f) => f.file.shard.index)).toEqual([1]);
  });
});

describe("--workers", () => {
  test("a count, or auto", async () => {
    const { parseWorkers } = await import("../src/config/shard-options.ts");
    expect(parseWorkers(undefined)).toBe(1);
    expect(parseWorkers("auto", 6)).toBe(6);
    expect(parseWorkers("3")).toBe(3);
    expect(() => parseWorkers("0")).toThrow("--workers: expected a positive integer");
  });
});

describe("--workers auto: the cores the client may use", () => {
  test("a cgroup v2 CPU limit rounds down to whole cores, at least one; none is no limit", async () => {
    const { coresFromCpuMax } = await import("../src/common/client-cores.ts");
    expect(coresFromCpuMax("max 100000\n")).toBeNull();
    expect(coresFromCpuMax("250000 100000\n")).toBe(2);
    expect(coresFromCpuMax("50000 100000")).toBe(1);
    expect(coresFromCpuMax("400000 50000")).toBe(8);
    expect(coresFromCpuMax("")).toBeNull();
  });
});
