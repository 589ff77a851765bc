import { describe, expect, test } from "bun:test";
import { gammaDraw, gapGenerator } from "../src/workload/arrivals.ts";
import { arrivalSchedule } from "../src/workload/open-loop.ts";
import { seededRandom } from "../src/dataset/prng.ts";
import { observedConcurrency } from "../src/metrics/concurrency.ts";
import { goodput } from "../src/metrics/goodput.ts";
import { statsByTurn } from "../src/metrics/per-turn.ts";
import { parseGoodput } from "../src/config/goodput-flag.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { statsOf, type RequestStats } from "../src/metrics/request-stats.ts";

function stats(values: number[]) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, cv: std / mean };
}

describe("arrival processes", () => {
  test("Poisson gaps: mean 1/rate, coefficient of variation 1", () => {
    const next = gapGenerator(50, 1, seededRandom(1));
    const { mean, cv } = stats(Array.from({ length: 40_000 }, next));
    expect(mean).toBeGreaterThan(0.02 * 0.98);
    expect(mean).toBeLessThan(0.02 * 1.02);
    expect(cv).toBeGreaterThan(0.97);
    expect(cv).toBeLessThan(1.03);
  });

  test("gamma gaps keep the mean; burstiness k gives a CV of 1/√k", () => {
    for (const k of [0.25, 4]) {
      const { mean, cv } = stats(Array.from({ length: 40_000 }, gapGenerator(10, k, seededRandom(2))));
      expect(mean).toBeGreaterThan(0.1 * 0.97);
      expect(mean).toBeLessThan(0.1 * 1.03);
      expect(cv).toBeGreaterThan((1 / Math.sqrt(k)) * 0.95);
      expect(cv).toBeLessThan((1 / Math.sqrt(k)) * 1.05);
    }
    // Gamma(shape 3, scale 1) has mean 3 and CV 1/√3
    const random = seededRandom(5);
    const gamma = stats(Array.from({ length: 40_000 }, () => gammaDraw(3, random)));
    expect(gamma.mean).toBeGreaterThan(3 * 0.98);
    expect(gamma.mean).toBeLessThan(3 * 1.02);
    expect(gamma.cv).toBeGreaterThan(0.577 * 0.97);
    expect(gamma.cv).toBeLessThan(0.577 * 1.03);
  });

  test("the schedule is a pure function of the seed; the first request goes at once; inf sends all together", () => {
    const take = (seed: number, rate = 20) => {
      const next = arrivalSchedule({ rate, burstiness: 1, seed });
      return Array.from({ length: 6 }, next);
    };
    expect(take(4)).toEqual(take(4));
    expect(take(4)).not.toEqual(take(5));
    expect(take(4)[0]).toBe(0);
    expect(take(4, Infinity)).toEqual([0, 0, 0, 0, 0, 0]);
  });
});

/** A request as the metrics see it, from a hand-written record. */
function record(overrides: Partial<RequestRecord>): RequestStats {
  return statsOf({
    user: 0, seq: 0, conversation: "0.0", turn: 0, prompt_index: 0, sent: true, send_ms: 0, queue_wait_ms: 0, status: "ok",
    reconnected: false, error: null, in_tokens: 10, server_in_tokens: null, out_tokens: 0, asked_out_tokens: 0, short: false, ttft_ms: null,
    e2e_ms: null, done_ms: 0, events: [], finish_reason: null,
    // no thinking: the answer starts with the first token
    ttft_content_ms: overrides.events?.[0]?.[0] ?? null, reasoning_tokens: 0, answer_tokens: overrides.out_tokens ?? 0, thinking_ms: null, ...overrides,
  });
}

describe("observed concurrency", () => {
  test("time-averaged and maximum requests in flight, from send and finish times", () => {
    // [0,100], [50,150], [100,200]: busy 300 ms over 200 ms → mean 1.5; at most 2 overlap
    const records = [
      record({ send_ms: 0, done_ms: 100 }),
      record({ send_ms: 50, done_ms: 100 }),
      record({ send_ms: 100, done_ms: 100 }),
      record({ sent: false, send_ms: 10, done_ms: 500, status: "failed", error: "not sent" }),
    ];
    expect(observedConcurrency(records)).toEqual({ mean: 1.5, max: 2 });
    expect(observedConcurrency([])).toEqual({ mean: 0, max: 0 });
  });
});

describe("goodput", () => {
  const records = [
    // TTFT 100, TPOT (400 − 100) / 3 = 100, E2E 400
    record({ out_tokens: 4, events: [[100, 1], [200, 1], [300, 1], [400, 1]] }),
    // TTFT 50, TPOT 10, E2E 80
    record({ out_tokens: 4, events: [[50, 1], [60, 1], [70, 1], [80, 1]] }),
    // one token: TTFT 30, no TPOT
    record({ out_tokens: 1, events: [[30, 1]] }),
    record({ status: "failed", error: "boom" }),
  ];

  test("a request counts when it succeeded within every SLO given", () => {
    expect(goodput(records, { ttft: 60 }, 2)).toEqual({ goodput: 1, goodput_ratio: 0.5, met: 2 });
    expect(goodput(records, { tpot: 50 }, 2)).toEqual({ goodput: 1, goodput_ratio: 0.5, met: 2 });
    expect(goodput(records, { ttft: 1000, tpot: 1000, e2e: 1000 }, 3)).toEqual({ goodput: 1, goodput_ratio: 0.75, met: 3 });
    expect(goodput(records, { e2e: 10 }, 2).met).toBe(0);
  });

  test("the flag parses metric:ms pairs and names what is wrong", () => {
    expect(parseGoodput("--goodput", "ttft:200,tpot:50,e2e:5000")).toEqual({ ttft: 200, tpot: 50, e2e: 5000 });
    expect(parseGoodput("--goodput", "e2e:1500")).toEqual({ e2e: 1500 });
    expect(parseGoodput("--goodput", undefined)).toBeNull();
    expect(() => parseGoodput("--goodput", "ttfb:200")).toThrow('--goodput: expected metric:ms pairs such as ttft:200,tpot:50,e2e:5000, got "ttfb:200"');
    expect(() => parseGoodput("--goodput", "ttft:-1")).toThrow("the ttft limit must be a number of ms > 0");
  });
});

describe("per-turn statistics", () => {
  test("grouped by turn index", () => {
    const turns = statsByTurn([
      record({ turn: 0, in_tokens: 10, out_tokens: 2, events: [[10, 1], [20, 1]] }),
      record({ turn: 1, in_tokens: 30, out_tokens: 2, events: [[40, 1], [50, 1]] }),
      record({ turn: 0, in_tokens: 20, out_tokens: 2, events: [[30, 1], [40, 1]] }),
    ]);
    expect(turns.map((t) => [t.turn, t.requests, t.mean_ttft, t.avg_inlen])).toEqual([[0, 2, 20, 15], [1, 1, 40, 30]]);
  });
});
