import type { MeasuredRecord, RequestRecord } from "../records/record.ts";
import { measuredInterTokenLatencies, measuredRequestLatency, measuredTokenEvents, packedEvents } from "./request-latency.ts";

/**
 * What the metrics need of one request, computed once when it finishes. A point keeps these in
 * memory instead of the records (whose every token event goes to requests.jsonl): per-token
 * samples sit in a Float32Array, 4 bytes a token, which the garbage collector does not scan.
 */
export interface RequestStats {
  /** False for an arrival that was never sent (rate mode, still queued at the stop). */
  sent: boolean;
  /** Succeeded with at least one output token: counts in the latencies. */
  ok: boolean;
  error: string | null;
  sendMs: number;
  doneMs: number;
  queueWaitMs: number;
  turn: number;
  inTokens: number;
  serverInTokens: number | null;
  /** Prompt tokens the server said came from its prefix cache; null or absent when it did not say. */
  cachedTokens?: number | null;
  outTokens: number;
  short: boolean;
  ttft: number | null;
  e2e: number | null;
  /** Null for answers of fewer than two tokens. */
  tpot: number | null;
  /** Inter-token latencies, one per token after the first event (single precision: request-latency.ts). */
  itl: Float32Array;
  /** Events that carried at least one token. */
  tokenEvents: number;
  /** Time to the first answer token, after any thinking; null when none came. */
  ttftContent: number | null;
  reasoningTokens: number;
  answerTokens: number;
  /** Null without thinking. */
  thinkingMs: number | null;
}

const NO_SAMPLES = new Float32Array(0);

/** The stats of a record, as read from requests.jsonl (event pairs) or as measured (MeasuredEvents). */
export function statsOf(record: RequestRecord | MeasuredRecord): RequestStats {
  const events = Array.isArray(record.events) ? packedEvents(record.events) : record.events;
  const latency = record.status === "ok" ? measuredRequestLatency(events, record.out_tokens) : null;
  const tokenEvents = measuredTokenEvents(events);
  return {
    sent: record.sent,
    ok: latency !== null,
    error: latency !== null ? null : (record.error ?? "no output tokens"),
    sendMs: record.send_ms,
    doneMs: record.done_ms,
    queueWaitMs: record.queue_wait_ms,
    turn: record.turn,
    inTokens: record.in_tokens,
    serverInTokens: record.server_in_tokens,
    cachedTokens: record.cached_tokens ?? null,
    outTokens: record.out_tokens,
    short: record.short,
    ttft: latency?.ttft ?? null,
    e2e: latency?.e2e ?? null,
    tpot: latency?.tpot ?? null,
    itl: latency === null ? NO_SAMPLES : measuredInterTokenLatencies(events),
    tokenEvents,
    // records written before thinking was measured have none of these: all their tokens were the answer
    ttftContent: latency === null ? null : record.ttft_content_ms === undefined ? latency.ttft : record.ttft_content_ms,
    reasoningTokens: record.reasoning_tokens ?? 0,
    answerTokens: record.answer_tokens ?? record.out_tokens,
    thinkingMs: latency === null ? null : (record.thinking_ms ?? null),
  };
}
