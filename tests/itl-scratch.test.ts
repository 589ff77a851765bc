import { expect, test } from "bun:test";
import { statsByTurn } from "../src/metrics/per-turn.ts";
import { statsOf } from "../src/metrics/request-stats.ts";
import { itlScratchFor, summarize } from "../src/metrics/summarize.ts";
import type { RequestRecord } from "../src/records/record.ts";

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

test("summaries that share one ITL scratch array give exactly what each gives with its own", () => {
  const requests = [
    stats(0, 0, [[100, 1], [160, 3], [180, 1]]),
    stats(1, 10, [[50, 1], [90, 1], [400, 2]]),
    stats(0, 20, [[30, 1], [31, 1], [32, 1], [90, 1]]),
    stats(1, 30, [[70, 1]], "failed"),
  ];
  const scratch = itlScratchFor(requests);
  // 4 + 3 + 3 samples of the three successful requests (the failed one's are not counted)
  expect(scratch.length).toBe(10);
  const later = requests.filter((r) => r.sendMs >= 10);
  expect(summarize(requests, [50, 95], scratch)).toEqual(summarize(requests, [50, 95]));
  expect(summarize(later, [50, 95], scratch)).toEqual(summarize(later, [50, 95]));
  expect(statsByTurn(requests, scratch)).toEqual(statsByTurn(requests));
  // by hand: request 2's gaps 40 and 310/2 twice
  expect(summarize([requests[1]!], [], scratch).itl).toMatchObject({ min: 40, max: 155, median: 155 });
  // too small: a fresh array, same result
  expect(summarize(requests, [], new Float32Array(2))).toEqual(summarize(requests));
});
