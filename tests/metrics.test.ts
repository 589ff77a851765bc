import { describe as group, expect, test } from "bun:test";
import { describe, percentileOfSorted, populationStd } from "../src/metrics/stats.ts";
import { interTokenLatencies, requestLatency } from "../src/metrics/request-latency.ts";
import { summarize } from "../src/metrics/summarize.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { statsOf, type RequestStats } from "../src/metrics/request-stats.ts";

group("numpy conventions", () => {
  test("percentiles interpolate linearly between closest ranks", () => {
    const sorted = [1, 2, 3, 4, 10];
    // rank = (n - 1) * p / 100: p90 → 3.6 → 4 + 0.6 × (10 − 4); p99 → 3.96 → 4 + 0.96 × 6
    expect(percentileOfSorted(sorted, 90)).toBeCloseTo(7.6, 10);
    expect(percentileOfSorted(sorted, 99)).toBeCloseTo(9.76, 10);
    expect(percentileOfSorted(sorted, 50)).toBe(3);
    expect(percentileOfSorted([10, 20], 90)).toBeCloseTo(19, 10);
    expect(percentileOfSorted([10, 20], 99)).toBeCloseTo(19.9, 10);
  });

  test("std is the population standard deviation", () => {
    // mean 4; squared deviations 9 + 4 + 1 + 0 + 36 = 50; 50 / 5 = 10
    expect(populationStd([1, 2, 3, 4, 10])).toBeCloseTo(Math.sqrt(10), 12);
    expect(populationStd([10, 20])).toBe(5);
  });

  test("describe sorts its input and handles one value and none", () => {
    const d = describe([10, 1, 4, 3, 2])!;
    expect(d).toEqual({ min: 1, max: 10, mean: 4, median: 3, std: Math.sqrt(10), p90: d.p90, p99: d.p99 });
    expect(d.p90).toBeCloseTo(7.6, 10);
    expect(describe([5.5])).toEqual({ min: 5.5, max: 5.5, mean: 5.5, median: 5.5, std: 0, p90: 5.5, p99: 5.5 });
    expect(describe([])).toBeNull();
  });
});

group("per-request latencies", () => {
  test("TTFT from the first token event, E2E from the last, TPOT over the remaining tokens", () => {
    // 1 token at 100 ms, then 3 tokens at 160 ms, then 1 at 180 ms: 5 tokens
    const latency = requestLatency([[100, 1], [160, 3], [180, 1]], 5)!;
    expect(latency.ttft).toBe(100);
    expect(latency.e2e).toBe(180);
    expect(latency.tpot).toBe((180 - 100) / 4);
  });

  test("events carrying no token are not the first token", () => {
    // a role-only chat delta at 20 ms carries nothing
    const latency = requestLatency([[20, 0], [90, 1], [100, 1]], 2)!;
    expect(latency.ttft).toBe(90);
    expect(latency.tpot).toBe(10);
  });

  test("a one-token answer has TTFT and E2E but no TPOT", () => {
    expect(requestLatency([[42, 1]], 1)).toEqual({ ttft: 42, e2e: 42, tpot: null });
  });

  test("no token at all gives no latency", () => {
    expect(requestLatency([], 0)).toBeNull();
  });

  test("ITL gives each token of a multi-token event its share of the gap", () => {
    // gaps: 160 − 100 = 60 over 3 tokens → 20, 20, 20; 180 − 160 = 20 over 1 token
    expect(interTokenLatencies([[100, 1], [160, 3], [180, 1]])).toEqual([20, 20, 20, 20]);
    // the first event has no predecessor: its extra tokens give no sample
    expect(interTokenLatencies([[100, 4], [140, 2]])).toEqual([20, 20]);
    expect(interTokenLatencies([[100, 1]])).toEqual([]);
  });
});

/** A request as the metrics see it, from a hand-written record. */
function record(overrides: Partial<RequestRecord>): RequestStats {
  return statsOf({
    user: 0, seq: 0, conversation: "0.0", turn: 0, prompt_index: 0, sent: true, send_ms: 0, queue_wait_ms: 0, status: "ok",
    reconnected: false, error: null, in_tokens: 10, server_in_tokens: null, out_tokens: 0, asked_out_tokens: 0, short: false, ttft_ms: null,
    e2e_ms: null, done_ms: 0, events: [], finish_reason: null,
    // no thinking: the answer starts with the first token
    ttft_content_ms: overrides.events?.[0]?.[0] ?? null, reasoning_tokens: 0, answer_tokens: overrides.out_tokens ?? 0, thinking_ms: null,
    ...overrides,
  });
}

group("summary of a run", () => {
  const records: RequestStats[] = [
    // sent at 1000 ms: tokens at +100 (1), +150 (2), +200 (1) → TTFT 100, E2E 200, TPOT 100 / 3
    record({ send_ms: 1000, in_tokens: 10, out_tokens: 4, events: [[100, 1], [150, 2], [200, 1]], done_ms: 210 }),
    // sent at 1100 ms: one token at +300 → TTFT 300, E2E 300, no TPOT; ends at 1100 + 310 = 1410
    record({ send_ms: 1100, in_tokens: 30, out_tokens: 1, events: [[300, 1]], done_ms: 310 }),
    // failed: left out of the latencies, counted by reason; ends at 1500 + 500 = 2000 (the last finish)
    record({ send_ms: 1500, status: "failed", error: "HTTP 500: boom", in_tokens: 99, out_tokens: 7, events: [[5, 7]], done_ms: 500 }),
    record({ send_ms: 1200, status: "failed", error: "HTTP 500: boom", done_ms: 10 }),
  ];
  const summary = summarize(records);

  test("counts, rates and token totals leave failures out", () => {
    expect(summary.requests).toBe(4);
    expect(summary.completed).toBe(2);
    expect(summary.failed).toBe(2);
    expect(summary.failures).toEqual({ "HTTP 500: boom": 2 });
    expect(summary.success_rate).toBe(0.5);
    // duration: first send 1000 → last finish 2000 = 1 s
    expect(summary.duration_s).toBe(1);
    expect(summary.qps).toBe(2);
    expect(summary.total_inlen).toBe(40);
    expect(summary.total_outlen).toBe(5);
    expect(summary.avg_inlen).toBe(20);
    expect(summary.avg_outlen).toBe(2.5);
    expect(summary.max_inlen).toBe(30);
    expect(summary.max_outlen).toBe(4);
    expect(summary.o_tps).toBe(5);
    expect(summary.io_tps).toBe(45);
    // 5 tokens over 4 token events
    expect(summary.tokens_per_event).toBe(1.25);
  });

  test("latency distributions", () => {
    expect(summary.ttft).toMatchObject({ min: 100, max: 300, mean: 200, median: 200, std: 100 });
    expect(summary.e2e).toMatchObject({ min: 200, max: 300, mean: 250 });
    expect(summary.tpot!.mean).toBeCloseTo(100 / 3, 10);
    expect(summary.tpot!.std).toBe(0);
    // ITL samples: 50/2, 50/2, 50/1 → 25, 25, 50
    expect(summary.itl).toMatchObject({ min: 25, max: 50, median: 25 });
    expect(summary.itl!.mean).toBeCloseTo(100 / 3, 10);
  });

  test("a run where everything failed has no latencies and no throughput", () => {
    const failed = summarize([record({ status: "failed", error: "connection refused", done_ms: 5 })]);
    expect(failed.completed).toBe(0);
    expect(failed.ttft).toBeNull();
    expect(failed.success_rate).toBe(0);
    expect(failed.avg_outlen).toBe(0);
  });

  test("server-reported prompt tokens are summed where given", () => {
    const s = summarize([
      record({ out_tokens: 1, events: [[1, 1]], server_in_tokens: 12 }),
      record({ out_tokens: 1, events: [[1, 1]], server_in_tokens: 8 }),
    ]);
    expect(s.server_total_inlen).toBe(20);
    expect(summary.server_total_inlen).toBeNull();
  });
});
