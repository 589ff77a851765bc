/** The registry's views: which key numbers `compare` and the sweep's console show, and the sweep's failure summary. */
import { describe, expect, test } from "bun:test";
import type { PointEntry, RunEntry } from "../src/archive/history.ts";
import type { PointOutcome } from "../src/archive/sweep-summary.ts";
import { summarize } from "../src/metrics/summarize.ts";
import { comparisonData, formatComparison } from "../src/report/history-report.ts";
import { briefColumns, comparedColumns, historyColumns, keyColumns } from "../src/report/metric-views.ts";
import { formatSweepFailures, formatSweepTable } from "../src/report/sweep-console.ts";

const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "");

const run = (id: number): RunEntry => ({
  id, name: `2025-01-0${id}/120000_vllm_m`, dir: "/r", started_at: "2025-01-01T00:00:00Z", ended_at: null, status: "completed", exit_code: 0, reason: null,
  backend: "vllm", model: "m", model_size: 7, tp: 1, mode: "", dataset: "d", points_planned: 1, llmbench_version: "t", host: "h", pid: null, pid_start: null,
});
const point = (metrics: Record<string, number | null>): PointEntry =>
  ({ run_id: 1, idx: 0, point: "clients=4", num_clients: 4, request_rate: null, status: "done", reason: null, ...Object.fromEntries(historyColumns().map((c) => [c, null])), ...metrics }) as PointEntry;

describe("the views of the registry", () => {
  test("every key number is kept in the history; compare shows the key numbers that have a better direction", () => {
    const history = historyColumns();
    for (const { column } of keyColumns()) expect(history).toContain(column);
    expect(comparedColumns().map((c) => c.column).slice(0, 3)).toEqual(["qps", "o_tps", "success_rate"]);
    expect(briefColumns().map((c) => c.label)).toEqual(["ok", "failed", "qps", "out tok/s", "TTFT mean", "TTFT p99", "TTFT answer mean", "TPOT mean", "ITL mean", "E2E mean"]);
  });

  test("compare shows TTFT answer and thinking only for runs that thought", () => {
    const a = point({ qps: 2, o_tps: 200, mean_ttft: 50, mean_ttft_content: 50, total_reasoning_tokens: 0 });
    const b = point({ qps: 2.2, o_tps: 220, mean_ttft: 40, mean_ttft_content: 40, total_reasoning_tokens: 0 });
    const without = plain(formatComparison(run(1), run(2), [a], [b]));
    expect(without).toMatch(/clients=4\s+qps\s+2\.00\s+2\.20\s+\+10\.0%/);
    expect(without).not.toContain("TTFT answer");
    const thinking = point({ qps: 2.2, o_tps: 220, mean_ttft: 40, mean_ttft_content: 140, mean_thinking_time: 95, total_reasoning_tokens: 800 });
    const withThinking = plain(formatComparison(run(1), run(2), [a], [thinking]));
    expect(withThinking).toMatch(/TTFT answer mean ms\s+50\.0\s+140\.0\s+\+180\.0%/);
    expect(withThinking).toMatch(/thinking mean ms\s+—\s+95\.0\s+—/);
    const data = comparisonData(run(1), run(2), [a], [thinking]) as { points: Array<{ metrics: Record<string, { a: number | null; b: number | null; change_percent: number | null }> }> };
    expect(data.points[0]!.metrics.mean_ttft_content).toEqual({ a: 50, b: 140, change_percent: 180 });
  });

  test("the sweep's failures: totals over the sweep by reason, then each point's when several failed", () => {
    const stats = (error: string | null) => ({
      sent: true, ok: error === null, error, sendMs: 0, doneMs: 10, queueWaitMs: 0, turn: 0, inTokens: 5, serverInTokens: null, outTokens: 2, short: false,
      ttft: error === null ? 5 : null, e2e: error === null ? 9 : null, tpot: error === null ? 4 : null, itl: new Float32Array(error === null ? [4] : []), tokenEvents: 2,
      ttftContent: error === null ? 5 : null, reasoningTokens: 0, answerTokens: 2, thinkingMs: null,
    });
    const outcome = (index: number, errors: (string | null)[]): PointOutcome => {
      const summary = summarize(errors.map(stats));
      return { index, point: { kind: "clients", clients: index + 1, rampUpS: 0 }, key: `clients=${index + 1}`, folder: "", status: "done", reason: null, row: { completed: summary.completed, failed: summary.failed }, summary };
    };
    const one = [outcome(0, [null, null]), outcome(1, [null, "HTTP 500", "HTTP 500", "timeout"])];
    const text = plain(formatSweepFailures(one));
    expect(text.split("\n").slice(1)).toEqual(["  failed requests: 3 of 6 (50.0 %), by reason over the sweep", "    failed × 2: HTTP 500", "    failed × 1: timeout"]);
    const two = [...one, outcome(2, ["timeout", null])];
    expect(plain(formatSweepFailures(two))).toContain("failed requests: 4 of 8 (50.0 %)");
    expect(plain(formatSweepFailures(two))).toContain("    failed × 2: HTTP 500\n    failed × 2: timeout\n  by point\n    2 clients:");
    expect(formatSweepFailures([one[0]!])).toBe("");
    expect(plain(formatSweepTable(one))).toContain("failed requests: 3 of 6");
  });
});
