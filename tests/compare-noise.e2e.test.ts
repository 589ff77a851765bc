/** `llmbench compare` with repeated runs: a difference is within noise when the runs' 95 % intervals overlap. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { PointEntry, RunEntry } from "../src/archive/history.ts";
import { meanInterval, REPEATED_METRICS } from "../src/metrics/repeat-interval.ts";
import { noiseVerdict } from "../src/metrics/noise.ts";
import { comparisonData, formatComparison } from "../src/report/history-report.ts";
import { DATASET, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

describe("within noise: overlapping 95 % intervals", () => {
  const interval = (...values: number[]) => meanInterval(values)!;

  test("intervals that overlap are noise, apart ones are not, a missing side is unknown", () => {
    const a = { mean_ttft: interval(20, 21, 22), qps: interval(10, 10.1, 9.9) };
    const b = { mean_ttft: interval(21, 22, 23), qps: interval(20, 20.2, 19.8) };
    expect(noiseVerdict(a, b, "mean_ttft")).toBe(true); // 21 ± 2.48 and 22 ± 2.48
    expect(noiseVerdict(a, b, "qps")).toBe(false); // 10 ± 0.25 and 20 ± 0.5
    expect(noiseVerdict(a, undefined, "qps")).toBeNull();
    expect(noiseVerdict(a, { mean_ttft: null }, "mean_ttft")).toBeNull();
  });

  test("the comparison marks each metric of a repeated point, and leaves points without repeats as they were", () => {
    const run = (id: number): RunEntry => ({
      id, name: `run-${id}`, dir: "", started_at: "", ended_at: null, status: "completed", exit_code: 0, reason: null, backend: "vllm", model: "m",
      model_size: null, tp: 1, mode: "", dataset: "", points_planned: 2, llmbench_version: "", host: "", pid: null, pid_start: null,
    });
    const point = (key: string, qps: number, ttft: number) =>
      ({ run_id: 1, idx: 0, point: key, num_clients: 4, request_rate: null, status: "done", reason: null, qps, mean_ttft: ttft }) as unknown as PointEntry;
    const pointsA = [point("clients=4", 10, 21), point("clients=8", 18, 30)];
    const pointsB = [point("clients=4", 20, 22), point("clients=8", 19, 31)];
    const repeats = {
      a: new Map([["clients=4", { mean_ttft: interval(20, 21, 22), qps: interval(10, 10.1, 9.9) }]]),
      b: new Map([["clients=4", { mean_ttft: interval(21, 22, 23), qps: interval(20, 20.2, 19.8) }]]),
    };
    const data = comparisonData(run(1), run(2), pointsA, pointsB, repeats) as { points: Array<{ metrics: Record<string, Record<string, unknown>> }> };
    expect(data.points[0]!.metrics.mean_ttft!.within_noise).toBe(true);
    expect(data.points[0]!.metrics.qps!.within_noise).toBe(false);
    expect(data.points[1]!.metrics.qps).toEqual({ a: 18, b: 19, change_percent: expect.closeTo(100 / 18, 9) as unknown as number });
    const text = formatComparison(run(1), run(2), pointsA, pointsB, repeats);
    const line = (label: string) => text.split("\n").find((l) => l.includes(label) && l.includes(label === "qps" ? "+100.0%" : "+4.8%"))!;
    expect(line("TTFT mean ms")).toContain("overlap: within noise");
    expect(line("qps")).toContain("apart: beyond noise");
    expect(text).toContain("95 % intervals");
  });
});

describe("llmbench compare of two run folders with --num-runs 3", () => {
  let fast: MockHandle;
  let slow: MockHandle;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir();
    [fast, slow] = await Promise.all([startMock(["--ttft-ms", "20", "--itl-ms", "2"]), startMock(["--ttft-ms", "400", "--itl-ms", "2"])]);
  });
  afterAll(async () => {
    await Promise.all([fast?.stop(), slow?.stop()]);
  });

  const run = async (name: string, url: string) => {
    const result = await runCli([
      "run", "--base-url", url, "--model", "m", "--dataset-path", DATASET, "--num-clients", "2", "--num-requests", "8", "--output-len", "4",
      "--num-runs", "3", "--result-dir", join(dir, name), "--no-progress",
    ]);
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
  };

  test("a server 380 ms slower to its first token is beyond noise (a gap no scheduling hiccup of a loaded machine spans); every repeated metric has a verdict", async () => {
    await run("a", fast.url);
    await run("b", slow.url);
    const compared = await runCli(["compare", join(dir, "a"), join(dir, "b"), "--json", "--output-dir", join(dir, "no-history")]);
    if (compared.exitCode !== 0) console.error(compared.stderr);
    expect(compared.exitCode).toBe(0);
    const data = JSON.parse(compared.stdout);
    expect(data.points.map((p: { point: string }) => p.point)).toEqual(["clients=2"]);
    const metrics = data.points[0].metrics;
    expect(metrics.mean_ttft.within_noise).toBe(false);
    expect(metrics.mean_ttft.b - metrics.mean_ttft.a).toBeGreaterThan(40);
    // every compared metric that --num-runs repeats and both runs measured has a verdict; the others
    // (io_tps, a prefix-cache hit rate this server does not serve, …) have none
    const repeated = Object.keys(metrics).filter((metric) => REPEATED_METRICS.includes(metric) && metrics[metric].a !== null && metrics[metric].b !== null);
    expect(repeated.length).toBeGreaterThan(5);
    for (const metric of Object.keys(metrics)) expect(typeof metrics[metric].within_noise).toBe(repeated.includes(metric) ? "boolean" : "undefined");
    // every request succeeded in every run: the same success rate, an interval of one value, within noise
    expect(metrics.success_rate.within_noise).toBe(true);

    const table = await runCli(["compare", join(dir, "a"), join(dir, "b"), "--output-dir", join(dir, "no-history")]);
    expect(table.stdout).toContain("apart: beyond noise");
    const missing = await runCli(["compare", join(dir, "a"), join(dir, "nowhere"), "--output-dir", join(dir, "no-history")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain(`"${join(dir, "nowhere")}" is no run's result folder`);
  }, 120_000);
});
