/** `llmbench run --num-runs 3` against the simulator: three real runs, intervals computed from their own summaries. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { tCritical95 } from "../src/metrics/repeat-interval.ts";
import { DATASET, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS } from "./helpers/truth.ts";

const ITL_MS = 5;
const OUTPUT_LEN = 8;

describe("llmbench run --num-runs 3", () => {
  let mock: MockHandle;
  let dir: string;
  let result: { exitCode: number; stdout: string; stderr: string };

  beforeAll(async () => {
    dir = tempDir();
    mock = await startMock(["--ttft-ms", "20", "--itl-ms", String(ITL_MS)]);
    result = await runCli([
      "run", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET, "--num-clients", "2", "--num-requests", "8",
      "--output-len", String(OUTPUT_LEN), "--num-runs", "3", "--result-dir", join(dir, "result"), "--no-progress",
    ]);
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  }, 90_000);
  afterAll(async () => {
    await mock?.stop();
  });

  test("each run's metrics, their mean and 95 % interval; the first run is the run's own result", async () => {
    expect(result.exitCode).toBe(0);
    const repeats = await Bun.file(join(dir, "result/repeats.json")).json();
    expect(repeats.num_runs).toBe(3);
    expect(repeats.runs.map((r: { folder: string; completed: number }) => [r.folder, r.completed])).toEqual([[".", 8], ["run-2", 8], ["run-3", 8]]);
    const summaries = await Promise.all([".", "run-2", "run-3"].map((folder) => Bun.file(join(dir, "result", folder, "summary.json")).json()));
    for (const metric of ["mean_ttft", "mean_tpot", "qps"]) {
      const values = summaries.map((s) => s[metric] as number);
      const interval = repeats.metrics[metric];
      expect(interval.values).toEqual(values);
      const mean = values.reduce((a, b) => a + b, 0) / 3;
      const std = Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / 2);
      expect(interval.mean).toBeCloseTo(mean, 9);
      expect(interval.half_width).toBeCloseTo((tCritical95(2) * std) / Math.sqrt(3), 9);
    }
    // the interval of TPOT holds the simulator's configured token gap (within what delivery adds over 7 gaps)
    const tpot = repeats.metrics.mean_tpot;
    expect(tpot.low).toBeLessThanOrEqual(ITL_MS + DELIVERY_TOLERANCE_MS / (OUTPUT_LEN - 1));
    expect(tpot.high).toBeGreaterThanOrEqual(ITL_MS - CLOCK_SLACK_MS);
    expect(result.stdout).toContain("3 runs: mean across runs with its 95 % confidence interval");
  });
});
