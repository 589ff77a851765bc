import { describe, expect, test } from "bun:test";
import { statsOf } from "../src/metrics/request-stats.ts";
import { summarize } from "../src/metrics/summarize.ts";
import { emptyTally, tallyEvent, thinkingMetrics, type ThinkingTally } from "../src/metrics/thinking.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { summaryRow } from "../src/report/seed-columns.ts";

/** Thinking and answer figures against hand-computed values. */

function tallyOf(events: Array<[offset: number, tokens: number, thinking: number]>): ThinkingTally {
  const tally = emptyTally();
  for (const [offset, tokens, thinking] of events) tallyEvent(tally, offset, tokens, thinking);
  return tally;
}

describe("one request's thinking", () => {
  test("thinking then answer: ttft_content is the first answer token, thinking time runs to it", () => {
    // thinking at 20, 30, 40; answer at 50, 60
    const tally = tallyOf([[20, 1, 1], [30, 1, 1], [40, 1, 1], [50, 1, 0], [60, 1, 0]]);
    expect(thinkingMetrics(tally, 5, null)).toEqual({ reasoningTokens: 3, answerTokens: 2, ttftContent: 50, thinkingMs: 30 });
  });

  test("no thinking: ttft_content is TTFT, no thinking time", () => {
    expect(thinkingMetrics(tallyOf([[20, 2, 0], [30, 1, 0]]), 3, null)).toEqual({ reasoningTokens: 0, answerTokens: 3, ttftContent: 20, thinkingMs: null });
  });

  test("thinking that never ends (cut at the length): no answer, thinking time to its last token", () => {
    expect(thinkingMetrics(tallyOf([[20, 1, 1], [35, 1, 1]]), 2, null)).toEqual({ reasoningTokens: 2, answerTokens: 0, ttftContent: null, thinkingMs: 15 });
  });

  test("an event carrying both: the answer starts there", () => {
    expect(thinkingMetrics(tallyOf([[20, 2, 2], [30, 4, 1], [40, 1, 0]]), 7, null)).toEqual({ reasoningTokens: 3, answerTokens: 4, ttftContent: 30, thinkingMs: 10 });
  });

  test("the server's reasoning count wins, except a 0 while the stream thought (SGLang's 'not counted')", () => {
    const tally = tallyOf([[20, 1, 1], [30, 1, 0]]);
    expect(thinkingMetrics(tally, 10, 6).reasoningTokens).toBe(6);
    expect(thinkingMetrics(tally, 10, 6).answerTokens).toBe(4);
    expect(thinkingMetrics(tally, 10, 0).reasoningTokens).toBe(1);
    expect(thinkingMetrics(tallyOf([[20, 1, 0]]), 1, 0).reasoningTokens).toBe(0);
    // never more than the output
    expect(thinkingMetrics(tally, 2, 9)).toMatchObject({ reasoningTokens: 2, answerTokens: 0 });
  });
});

function record(overrides: Partial<RequestRecord>): RequestRecord {
  return {
    user: 0, seq: 0, conversation: "0.0", turn: 0, prompt_index: 0, sent: true, send_ms: 0, queue_wait_ms: 0, status: "ok", reconnected: false,
    error: null, in_tokens: 10, server_in_tokens: null, out_tokens: 0, asked_out_tokens: 0, short: false, ttft_ms: null,
    e2e_ms: null, done_ms: 0, events: [], finish_reason: null, ttft_content_ms: null, reasoning_tokens: 0, answer_tokens: 0, thinking_ms: null,
    ...overrides,
  };
}

describe("a run's thinking", () => {
  const records = [
    // thinks 3 tokens (20–40), answers 2 (50, 60)
    record({ send_ms: 1000, out_tokens: 5, events: [[20, 1], [30, 1], [40, 1], [50, 1], [60, 1]], done_ms: 61, ttft_content_ms: 50, reasoning_tokens: 3, answer_tokens: 2, thinking_ms: 30 }),
    // thinks 1 token, answers 3 from 70
    record({ send_ms: 1100, out_tokens: 4, events: [[40, 1], [70, 1], [80, 1], [90, 1]], done_ms: 91, ttft_content_ms: 70, reasoning_tokens: 1, answer_tokens: 3, thinking_ms: 30 }),
    // only thinking: no answer token
    record({ send_ms: 1200, out_tokens: 2, events: [[30, 1], [40, 1]], done_ms: 41, ttft_content_ms: null, reasoning_tokens: 2, answer_tokens: 0, thinking_ms: 10 }),
    // failed: counts in nothing here
    record({ send_ms: 1300, status: "failed", error: "boom", out_tokens: 1, events: [[10, 1]], reasoning_tokens: 1, thinking_ms: 0 }),
  ];
  const summary = summarize(records.map(statsOf));

  test("ttft_content over the requests that answered; thinking time over those that thought; tokens add up to the output", () => {
    expect(summary.ttft_content).toMatchObject({ min: 50, max: 70, mean: 60, median: 60 });
    expect(summary.thinking).toMatchObject({ min: 10, max: 30, mean: 70 / 3 });
    expect(summary.total_reasoning_tokens).toBe(6);
    expect(summary.total_answer_tokens).toBe(5);
    expect(summary.total_reasoning_tokens + summary.total_answer_tokens).toBe(summary.total_outlen);
    expect(summary.avg_reasoning_tokens).toBe(2);
    expect(summary.no_answer).toBe(1);
    // TTFT stays the first token of any kind
    expect(summary.ttft).toMatchObject({ min: 20, max: 40, mean: 30 });
  });

  test("the CSV row carries them after the seed's columns", () => {
    const row = summaryRow(summary, { modelSize: "7", tp: 1, numClients: 1, mode: "" });
    expect(row.mean_ttft_content).toBe(60);
    expect(row.p99_ttft_content).toBeCloseTo(50 + 0.99 * 20, 10);
    expect(row.max_thinking_time).toBe(30);
    expect(row.total_reasoning_tokens).toBe(6);
    expect(row.avg_answer_tokens).toBeCloseTo(5 / 3, 10);
    expect(row.no_answer).toBe(1);
    const keys = Object.keys(row);
    expect(keys.indexOf("mean_ttft_content")).toBeGreaterThan(keys.indexOf("p99_itl"));
  });

  test("records written before thinking was measured read as all answer", () => {
    const old = record({ out_tokens: 2, events: [[20, 1], [30, 1]] }) as Partial<RequestRecord>;
    delete old.ttft_content_ms;
    delete old.reasoning_tokens;
    delete old.answer_tokens;
    delete old.thinking_ms;
    const stats = statsOf(old as RequestRecord);
    expect(stats).toMatchObject({ ttftContent: 20, reasoningTokens: 0, answerTokens: 2, thinkingMs: null });
  });
});
