/**
 * `llmbench run` results in the history: two runs (one thinking) recorded in the history beside
 * their --result-dir, listed by `history`, and compared by `compare` with the thinking metrics;
 * the console's final summary lists the failures by reason with their counts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { RunHistory } from "../src/archive/history.ts";
import { historyPlaceOf } from "../src/runner/run-history.ts";
import { DATASET, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const root = tempDir();
const mocks: MockHandle[] = [];
afterAll(async () => {
  for (const mock of mocks) await mock.stop();
  rmSync(root, { recursive: true, force: true });
});

const runArgs = (url: string, dir: string, requests = 8) => [
  "run", "--backend", "openai-chat", "--base-url", url, "--model", "mock-model", "--dataset-path", DATASET,
  "--num-clients", "2", "--num-requests", String(requests), "--output-len", "12", "--result-dir", dir, "--no-progress",
];

describe("where a run's history is", () => {
  test("the default folder's root; beside an explicit --result-dir only when a history is there", () => {
    const archive = join(root, "where");
    expect(historyPlaceOf(join(archive, "2025-01-31/142501_vllm_m"), false, archive)).toEqual({ root: archive, name: "2025-01-31/142501_vllm_m" });
    expect(historyPlaceOf(join(archive, "mine"), true)).toBeNull();
    RunHistory.open(archive, { create: true })!.close();
    expect(historyPlaceOf(join(archive, "mine"), true)).toEqual({ root: archive, name: "mine" });
  });
});

describe("llmbench run in the history", () => {
  test("both runs listed, compared point by point, the thinking metrics included", async () => {
    const archive = join(root, "archive");
    RunHistory.open(archive, { create: true })!.close();
    const plain = await startMock(["--protocol", "openai-chat", "--ttft-ms", "10", "--itl-ms", "2"]);
    mocks.push(plain);
    const thinking = await startMock(["--protocol", "openai-chat", "--ttft-ms", "10", "--itl-ms", "2", "--reasoning-tokens", "5", "--reasoning-field", "reasoning"]);
    mocks.push(thinking);
    const env = { OPENAI_API_KEY: "" };
    const first = await runCli(runArgs(plain.url, join(archive, "plain")), { env });
    expect(first.exitCode).toBe(0);
    const second = await runCli(runArgs(thinking.url, join(archive, "thinking")), { env });
    expect(second.exitCode).toBe(0);

    const listed = await runCli(["history", "--json", "--output-dir", archive]);
    expect(listed.exitCode).toBe(0);
    const runs = JSON.parse(listed.stdout) as Array<{ name: string; status: string; points_run: number; best_o_tps: number }>;
    expect(runs.map((r) => [r.name, r.status, r.points_run])).toEqual([["thinking", "completed", 1], ["plain", "completed", 1]]);
    const summary = JSON.parse(readFileSync(join(archive, "thinking/summary.json"), "utf8"));
    expect(runs[0]!.best_o_tps).toBeCloseTo(summary.o_tps, 9);

    const compared = await runCli(["compare", "plain", "thinking", "--json", "--output-dir", archive]);
    expect(compared.exitCode).toBe(0);
    const point = JSON.parse(compared.stdout).points[0];
    expect(point.point).toBe("clients=2");
    expect(point.metrics.mean_ttft.b).toBeCloseTo(summary.mean_ttft, 9);
    expect(point.metrics.mean_ttft_content.b).toBeCloseTo(summary.mean_ttft_content, 9);
    expect(point.metrics.mean_thinking_time.b).toBeCloseTo(summary.mean_thinking_time, 9);
    expect(summary.mean_ttft_content).toBeGreaterThan(summary.mean_ttft);
    const table = await runCli(["compare", "plain", "thinking", "--output-dir", archive]);
    expect(table.stdout).toContain("TTFT answer mean ms");
    expect(table.stdout).toContain("thinking mean ms");

    // a run written again into its folder replaces its entry
    const again = await runCli(runArgs(plain.url, join(archive, "plain")), { env });
    expect(again.exitCode).toBe(0);
    const relisted = JSON.parse((await runCli(["history", "--json", "--output-dir", archive])).stdout) as Array<{ name: string }>;
    expect(relisted.map((r) => r.name)).toEqual(["plain", "thinking"]);
  }, 90_000);

  test("a run of --workers 2 is recorded once, with the merged numbers", async () => {
    const mock = await startMock(["--protocol", "openai-chat", "--ttft-ms", "5", "--itl-ms", "1"]);
    mocks.push(mock);
    const archive = join(root, "workers-archive");
    RunHistory.open(archive, { create: true })!.close();
    const result = await runCli([...runArgs(mock.url, join(archive, "two-workers")), "--workers", "2"], { env: { OPENAI_API_KEY: "" } });
    expect(result.exitCode).toBe(0);
    const merged = JSON.parse(readFileSync(join(archive, "two-workers/summary.json"), "utf8"));
    const history = RunHistory.open(archive, { create: false })!;
    const runs = history.listRuns(10);
    const points = history.pointsOf(runs[0]!.id);
    history.close();
    expect(runs.map((r) => [r.name, r.status])).toEqual([["two-workers", "completed"]]);
    expect(points.map((p) => [p.point, p.completed, p.mean_ttft])).toEqual([["clients=2", merged.completed, merged.mean_ttft]]);
  }, 90_000);

  test("a folder with no history beside it gets none", async () => {
    const mock = await startMock(["--protocol", "openai-chat", "--ttft-ms", "5", "--itl-ms", "1"]);
    mocks.push(mock);
    const alone = join(root, "alone");
    const result = await runCli(runArgs(mock.url, join(alone, "run")), { env: { OPENAI_API_KEY: "" } });
    expect(result.exitCode).toBe(0);
    expect(existsSync(join(alone, "history.db"))).toBe(false);
  }, 60_000);

  test("the final summary lists the failures, most frequent reason first, with counts", async () => {
    const mock = await startMock(["--protocol", "openai-chat", "--ttft-ms", "5", "--itl-ms", "1", "--faults", "http500:0.5", "--fault-seed", "3"]);
    mocks.push(mock);
    const dir = join(root, "faulty");
    const result = await runCli(runArgs(mock.url, dir, 16), { env: { OPENAI_API_KEY: "" } });
    if (!existsSync(join(dir, "summary.json"))) console.error(result.stdout, result.stderr);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.failed).toBeGreaterThan(0);
    expect(result.stdout).toContain(`failures   ${summary.failed} of ${summary.requests} requests`);
    const [reason, count] = Object.entries(summary.failures as Record<string, number>).sort((a, b) => b[1] - a[1])[0]!;
    expect(result.stdout).toContain(`failed × ${count}: ${reason}`);
  }, 60_000);
});
