import { describe, expect, test } from "bun:test";
import { findMax, type ProbeResult, type SearchSettings } from "../src/sweep/capacity-search.ts";
import { missedTerms, parseSlo, perRequestSlo } from "../src/sweep/slo.ts";
import type { Summary } from "../src/metrics/summarize.ts";
import { resolveConfig } from "../src/config/resolve-config.ts";
import { applyOverrides, parseSweepFlags } from "../src/config/sweep-flags.ts";
import { UsageError } from "../src/config/usage-error.ts";
import { DATASET } from "./helpers/cli.ts";

/** A point passes when value <= knee (a server whose capacity is exactly `knee`). */
function threshold(knee: number) {
  const probed: number[] = [];
  const probe = async (value: number): Promise<ProbeResult> => {
    probed.push(value);
    const pass = value <= knee;
    return { pass, failed: pass ? [] : [`load ${value} > ${knee}`], metrics: { value } };
  };
  return { probe, probed };
}

const clients: SearchSettings = { axis: "clients", start: 1, max: 4096, resolution: 1, confirmRuns: 1 };

describe("findMax", () => {
  test("doubles to bracket the knee, bisects to the resolution, reruns the best", async () => {
    const { probe, probed } = threshold(20);
    const result = await findMax(clients, probe);
    expect(result.best).toBe(20);
    expect(result.firstFail).toBe(21);
    // 1,2,4,8,16 pass, 32 fails; bisect 24 ✗, 20 ✓, 22 ✗, 21 ✗; rerun 20.
    expect(probed).toEqual([1, 2, 4, 8, 16, 32, 24, 20, 22, 21, 20]);
    expect(result.points.map((p) => p.phase)).toEqual(["bracket", "bracket", "bracket", "bracket", "bracket", "bracket", "bisect", "bisect", "bisect", "bisect", "confirm"]);
    expect(result.points.at(-1)!.run).toBe(2);
    expect(result.points.find((p) => p.value === 32)!.failed).toEqual(["load 32 > 20"]);
  });

  test("a coarser resolution stops earlier, within one step of the knee", async () => {
    for (const knee of [3, 7, 20, 33, 100, 1000]) {
      const { probe } = threshold(knee);
      const result = await findMax({ ...clients, resolution: 4 }, probe);
      expect(result.best!).toBeLessThanOrEqual(knee);
      expect(knee - result.best!).toBeLessThan(4);
      expect(result.firstFail! - result.best!).toBeLessThanOrEqual(4);
    }
  });

  test("rates live on multiples of the resolution; a failing start halves down", async () => {
    const { probe, probed } = threshold(1.3);
    const result = await findMax({ axis: "rate", start: 8, max: 1000, resolution: 0.25, confirmRuns: 1 }, probe);
    expect(result.best).toBe(1.25);
    expect(probed.slice(0, 4)).toEqual([8, 4, 2, 1]);
    for (const value of probed) expect(Number.isInteger(value / 0.25)).toBe(true);
  });

  test("the maximum passing ends the search there, saying the capacity may be higher", async () => {
    const { probe } = threshold(10_000);
    const result = await findMax({ ...clients, max: 50 }, probe);
    expect(result.best).toBe(50);
    expect(result.firstFail).toBeNull();
    expect(result.note).toContain("may be higher");
  });

  test("nothing passing gives best null", async () => {
    const { probe } = threshold(0);
    const result = await findMax({ ...clients, start: 4 }, probe);
    expect(result.best).toBeNull();
    expect(result.points.map((p) => p.value)).toEqual([4, 2, 1]);
  });

  test("a best that fails its rerun (noise) is not reported: the search goes below it", async () => {
    // 20 passes on its first run only; 19 and below always pass.
    let runsOf20 = 0;
    const probe = async (value: number): Promise<ProbeResult> => {
      let pass = value <= 20;
      if (value === 20) pass = ++runsOf20 === 1;
      return { pass, failed: pass ? [] : ["noise"], metrics: {} };
    };
    const result = await findMax(clients, probe);
    expect(result.best).toBe(19);
    expect(result.firstFail).toBe(20);
    expect(result.points.filter((p) => p.value === 19).length).toBe(2); // 19 was confirmed too
  });

  test("a best that fails its rerun with nothing passed below it: the search goes down until a value passes every run", async () => {
    // 4 passes only its first run; 2 and 3 always pass; above 4 always fails
    let runsOf4 = 0;
    const probe = async (value: number): Promise<ProbeResult> => {
      const pass = value === 4 ? ++runsOf4 === 1 : value < 4;
      return { pass, failed: pass ? [] : ["over"], metrics: {} };
    };
    const result = await findMax({ ...clients, start: 4 }, probe);
    expect(result.best).toBe(3);
    expect(result.firstFail).toBe(4);
    expect(result.points.filter((p) => p.value === 3).every((p) => p.pass)).toBe(true);
    expect(result.points.filter((p) => p.value === 3).length).toBe(2);
  });

  test("rates never go above the maximum, even off the grid", async () => {
    const { probe, probed } = threshold(1e9);
    const result = await findMax({ axis: "rate", start: 1, max: 10.3, resolution: 0.5, confirmRuns: 0 }, probe);
    expect(Math.max(...probed)).toBeLessThanOrEqual(10.3);
    expect(result.best).toBe(10);
  });

  test("stops when asked, keeping what it knows", async () => {
    const { probe } = threshold(100);
    let calls = 0;
    const result = await findMax(clients, async (v) => (calls++, probe(v)), { shouldStop: () => calls >= 3 });
    expect(result.points.length).toBe(3);
    expect(result.best).toBe(4);
    expect(result.note).toContain("stopped");
  });
});

function distribution(p99: number) {
  return { min: 0, max: p99, mean: p99 / 2, median: p99 / 2, std: 0, p90: p99, p99 };
}

describe("SLO terms", () => {
  test("parse and judge against a summary", () => {
    const terms = parseSlo("p99_ttft<=500, p99_tpot<=50,success_rate>=0.99");
    expect(terms).toEqual([
      { metric: "p99_ttft", op: "<=", bound: 500 },
      { metric: "p99_tpot", op: "<=", bound: 50 },
      { metric: "success_rate", op: ">=", bound: 0.99 },
    ]);
    const summary = { ttft: distribution(400), tpot: distribution(61.234), e2e: null, itl: null, success_rate: 0.98 } as unknown as Summary;
    expect(missedTerms(terms as never, summary, null)).toEqual(["p99_tpot 61.23 > 50", "success_rate 0.98 < 0.99"]);
    expect(perRequestSlo(terms as never)).toEqual({ ttft: 500, tpot: 50 });
  });

  test("bad terms are explained", () => {
    expect(parseSlo("p99_ttft<500")).toContain("not a term");
    expect(parseSlo("p42_ttft<=5")).toContain("unknown metric");
    expect(parseSlo("p99_ttft>=5")).toContain("ceiling");
    expect(parseSlo("goodput_ratio>=2")).toContain("fraction");
    expect(parseSlo("")).toContain("expected terms");
  });
});

describe("sweep.search in a config", () => {
  const base = (sweep: Record<string, unknown>) => ({
    backend: "vllm",
    model: { tag: "m" },
    servers: { vllm: { url: "http://127.0.0.1:8000", launch: "already-running" } },
    dataset: { path: DATASET },
    sweep,
  });

  test("resolves with defaults; --find-max replaces the config's points", () => {
    const config = resolveConfig(base({ search: { find: "rate", slo: "p99_ttft<=500" }, stopTimeS: 10 }), "/c/bench.config.ts", ["vllm"]);
    expect(config.sweep.points).toEqual([]);
    expect(config.sweep.search).toEqual({ find: "rate", slo: [{ metric: "p99_ttft", op: "<=", bound: 500 }], minGoodputRatio: null, resolution: 0.5, start: 0.5, max: 10_000, confirmRuns: 1, rampUpS: null });
    const overridden = resolveConfig(
      applyOverrides(base({ clients: [1, 2], rampUpS: 0, stopTimeS: 10 }), parseSweepFlags({ findMax: "clients", slo: "p99_tpot<=50", searchResolution: "4" })),
      "/c/bench.config.ts",
      ["vllm"],
    );
    expect(overridden.sweep.points).toEqual([]);
    expect(overridden.sweep.search).toMatchObject({ find: "clients", resolution: 4, start: 1, rampUpS: 0 });
  });

  test("wrong fields are named", () => {
    const problems = (sweep: Record<string, unknown>) => {
      try {
        resolveConfig(base(sweep), "/c/bench.config.ts", ["vllm"]);
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(problems({ search: { find: "qps", slo: "p99_ttft<=1" }, stopTimeS: 1 })).toContain('sweep.search.find: expected "clients" or "rate"');
    expect(problems({ search: { find: "clients", slo: "ttft<=1" }, stopTimeS: 1 })).toContain("sweep.search.slo:");
    expect(problems({ search: { find: "clients", slo: "p99_ttft<=1", minGoodputRatio: 3 }, stopTimeS: 1 })).toContain("sweep.search.minGoodputRatio");
    expect(problems({ search: { find: "clients", slo: "p99_ttft<=1" }, clients: [1], stopTimeS: 1 })).toContain("not both");
    expect(problems({ search: { find: "clients", slo: "p99_ttft<=1" }, rampUpS: () => 1, stopTimeS: 1 })).toContain("sweep.rampUpS: a function is not supported");
    expect(() => parseSweepFlags({ findMax: "clients", clients: "1,2" })).toThrow("not both");
    expect(() => parseSweepFlags({ findMax: "tokens" })).toThrow("--find-max: expected clients or rate");
  });
});
