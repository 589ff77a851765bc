import { describe as group, expect, test } from "bun:test";
import { seededRandom } from "../src/dataset/prng.ts";
import { describeChunks, selectRanks } from "../src/metrics/order-statistics.ts";
import { statsByTurn } from "../src/metrics/per-turn.ts";
import { statsOf } from "../src/metrics/request-stats.ts";
import { describeInPlace } from "../src/metrics/stats.ts";
import { summarize } from "../src/metrics/summarize.ts";
import type { RequestRecord } from "../src/records/record.ts";

/** The reference: every sample in one array, sorted (describeInPlace). */
function reference(chunks: readonly Float32Array[], chosen: readonly number[] = []) {
  const all = new Float32Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return describeInPlace(all, chosen);
}

/** Order statistics equal bit for bit; the mean and std (sums in another order) to 1e-12 relative. */
function expectSame(chunks: readonly Float32Array[], chosen: readonly number[] = []) {
  const want = reference(chunks, chosen)!;
  const got = describeChunks(chunks, chosen)!;
  const { mean, std, ...orders } = got;
  const { mean: wantMean, std: wantStd, ...wantOrders } = want;
  expect(orders).toEqual(wantOrders);
  expect(Math.abs(mean - wantMean)).toBeLessThanOrEqual(Math.abs(wantMean) * 1e-12 + 1e-300);
  expect(Math.abs(std - wantStd)).toBeLessThanOrEqual(Math.abs(wantStd) * 1e-9 + 1e-300);
}

/** `count` samples in chunks of random lengths (some empty), from `draw`. */
function chunked(seed: number, count: number, draw: (random: () => number) => number): Float32Array[] {
  const random = seededRandom(seed, 0x05747);
  const chunks: Float32Array[] = [];
  let left = count;
  while (left > 0) {
    const length = Math.min(left, Math.floor(random() * 600));
    const chunk = new Float32Array(length);
    for (let i = 0; i < length; i++) chunk[i] = draw(random);
    chunks.push(chunk);
    left -= length;
  }
  return chunks;
}

group("describeChunks: the distribution of samples in many arrays, without a copy", () => {
  test("equals the sorted reference on seeded samples of every shape", () => {
    const shapes: Array<[string, (random: () => number) => number]> = [
      ["gaps around 5 ms", (r) => 5 + (r() - 0.5) * 0.2],
      ["log-uniform over 1 ns .. 100 s", (r) => 10 ** (r() * 11 - 6)],
      ["few distinct values (ties)", (r) => Math.floor(r() * 4) * 0.25],
      ["negative and positive, zero among them", (r) => (r() < 0.1 ? 0 : (r() - 0.5) * 1e3)],
      ["all one value", () => 42.5],
    ];
    for (const [index, [, draw]] of shapes.entries()) {
      for (const count of [1, 2, 3, 7, 100, 20_000]) expectSame(chunked(index * 31 + count, count, draw), [1, 25, 50, 75, 95, 99.9]);
    }
  });

  test("many chosen percentiles (ranks in more buckets than one counting pass takes)", () => {
    const chunks = chunked(7, 50_000, (r) => 10 ** (r() * 8 - 3));
    expectSame(chunks, Array.from({ length: 99 }, (_, i) => i + 1));
  });

  test("views into a larger buffer read only their own samples", () => {
    const buffer = new Float32Array([100, 1, 2, 3, -100]);
    expect(describeChunks([buffer.subarray(1, 4)])).toMatchObject({ min: 1, max: 3, median: 2, mean: 2 });
  });

  test("nothing to describe is null; empty arrays among others count for nothing", () => {
    expect(describeChunks([])).toBeNull();
    expect(describeChunks([new Float32Array(0), new Float32Array(0)])).toBeNull();
    expect(describeChunks([new Float32Array(0), new Float32Array([3]), new Float32Array(0)])).toEqual({ min: 3, max: 3, mean: 3, median: 3, std: 0, p90: 3, p99: 3 });
  });

  test("by hand: 1..10 in three arrays", () => {
    const chunks = [new Float32Array([10, 3, 7]), new Float32Array([1, 9]), new Float32Array([2, 8, 4, 6, 5])];
    // numpy: percentile(1..10, 90) = 9.1, 99 → 9.91, 25 → 3.25; std = sqrt(8.25)
    const got = describeChunks(chunks, [25])!;
    expect(got).toMatchObject({ min: 1, max: 10, mean: 5.5, median: 5.5, percentiles: { "25": 3.25 } });
    expect(got.p90).toBeCloseTo(9.1, 12);
    expect(got.p99).toBeCloseTo(9.91, 12);
    expect(got.std).toBeCloseTo(Math.sqrt(8.25), 12);
  });

  test("selectRanks refuses a rank outside the samples", () => {
    expect(() => selectRanks([new Float32Array([1, 2])], 2, [2])).toThrow(RangeError);
    expect([...selectRanks([new Float32Array([5, -1]), new Float32Array([0])], 3, [0, 1, 2]).values()]).toEqual([-1, 0, 5]);
  });
});

function stats(turn: number, sendMs: number, events: Array<[number, number]>, status: "ok" | "failed" = "ok") {
  const outTokens = events.reduce((n, [, k]) => n + k, 0);
  const record: RequestRecord = {
    user: 0, seq: 0, conversation: "0.0", turn, prompt_index: 0, sent: true, send_ms: sendMs, reconnected: false, queue_wait_ms: 0,
    status, error: status === "ok" ? null : "boom", in_tokens: 10, server_in_tokens: null, out_tokens: outTokens, asked_out_tokens: outTokens,
    short: false, ttft_ms: events[0]?.[0] ?? null, e2e_ms: events.at(-1)?.[0] ?? null, done_ms: 500, events, finish_reason: "length",
    ttft_content_ms: events[0]?.[0] ?? null, reasoning_tokens: 0, answer_tokens: outTokens, thinking_ms: null,
  };
  return statsOf(record);
}

test("a summary's ITL covers its successful requests' gaps, per point and per turn", () => {
  const requests = [
    stats(0, 0, [[100, 1], [160, 3], [180, 1]]),
    stats(1, 10, [[50, 1], [90, 1], [400, 2]]),
    stats(0, 20, [[30, 1], [31, 1], [32, 1], [90, 1]]),
    stats(1, 30, [[70, 1]], "failed"),
  ];
  // by hand: request 1's gaps 40 and 310/2 twice; request 0's 20 three times, then 20; request 2's 1, 1, 58
  expect(summarize([requests[1]!]).itl).toMatchObject({ min: 40, max: 155, median: 155 });
  const all = summarize(requests, [50]).itl!;
  expect(all).toMatchObject({ min: 1, max: 155, median: 20 });
  expect(all.mean).toBeCloseTo((60 / 3 * 3 + 20 + 40 + 155 * 2 + 1 + 1 + 58) / 10, 5);
  const [turn0, turn1] = statsByTurn(requests);
  expect(turn0!.completed).toBe(2);
  expect(turn1!.completed).toBe(1);
});
