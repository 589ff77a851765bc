import type { Backend, GenerationRequest, SendState } from "../backends/backend.ts";
import type { MeasuredRecord } from "../records/record.ts";
import { measuredRequestLatency, type MeasuredEvents } from "../metrics/request-latency.ts";
import { emptyTally, tallyEvent, thinkingMetrics, type ThinkingTally } from "../metrics/thinking.ts";
import { nanos } from "../records/record-line.ts";

/** Who sent a request and what it carried, for its record. */
export interface RequestIdentity {
  user: number;
  seq: number;
  conversation: string;
  turn: number;
  promptIndex: number;
  inTokens: number;
  /** When the request arrived in rate mode (performance.now()); its send may come later. */
  arrivedAt?: number;
  /** Trace replay: the planned send time, ms after the start. */
  plannedMs?: number;
}

export interface MeasuredRequest {
  record: MeasuredRecord;
  /** The answer's content (never its thinking), for the next turn of a conversation. */
  text: string;
}

/**
 * Sends one request through the backend and turns what happened into a record. Timing starts just
 * before the request goes out; every token event is kept with its offset from then. Never
 * rejects: a cancelled or timed-out request is a failed record with the reason.
 */
export async function measureRequest(
  backend: Backend,
  request: GenerationRequest,
  identity: RequestIdentity,
  signal: AbortSignal,
): Promise<MeasuredRequest> {
  // Each token event's offset: one block, sized for the tokens asked (one event each at most, grown
  // should a server send more), outside the GC's scanned heap, into the record as it is. Its tokens
  // only once an event carries other than one (until then, every event carried one).
  let offsets: Float64Array = new Float64Array(Math.min(Math.max(request.outputLen, 1), 1 << 16));
  let counts = null as Float64Array | null; // (set in the listener: not narrowed to null below)
  let used = 0;
  let streamedTokens = 0;
  let text = "";
  // The backend moves sentAt when it sends again on a fresh connection (nothing had arrived before).
  const send: SendState = { sentAt: performance.now(), reconnected: false };
  let error: string | null = null;
  let serverOutTokens: number | null = null;
  let serverInTokens: number | null = null;
  let cachedTokens: number | null = null;
  let finishReason: string | null = null;
  let serverReasoningTokens: number | null = null;
  const tally = emptyTally();
  let requestId: string | null = null;
  try {
    const outcome = await backend.generate(
      request,
      (at, tokens, _text, thinkingTokens) => {
        if (tokens <= 0) return;
        const offset = at - send.sentAt;
        if (used === offsets.length) {
          offsets = grown(offsets);
          if (counts !== null) counts = grown(counts);
        }
        offsets[used] = offset;
        if (tokens !== 1 && counts === null) counts = new Float64Array(offsets.length).fill(1, 0, used);
        if (counts !== null) counts[used] = tokens;
        used++;
        streamedTokens += tokens;
        tallyEvent(tally, offset, tokens, thinkingTokens);
      },
      signal,
      undefined,
      send,
    );
    ({ error, serverOutTokens, finishReason, text, serverReasoningTokens } = outcome);
    serverInTokens = outcome.serverPromptTokens;
    cachedTokens = outcome.serverCachedTokens ?? null;
    requestId = outcome.requestId ?? null;
  } catch (thrown) {
    error = signal.aborted ? reasonText(signal.reason) : `client error: ${(thrown as Error)?.message ?? thrown}`;
  }
  // to the nanosecond, as the record writes them (record-line.ts): what is kept is what is written
  for (let i = 0; i < used; i++) offsets[i] = nanos(offsets[i]!);
  const events: MeasuredEvents = { offsets: offsets.subarray(0, used), tokens: counts === null ? null : counts.subarray(0, used) };
  const sendAt = send.sentAt;
  const doneMs = performance.now() - sendAt;
  const outTokens = serverOutTokens ?? streamedTokens;
  const latency = error === null ? measuredRequestLatency(events, outTokens) : null;
  if (error === null && latency === null) error = "no output tokens";
  const ok = error === null;
  const thinking = thinkingMetrics(inNanos(tally), outTokens, serverReasoningTokens);
  return {
    text,
    record: {
      user: identity.user,
      seq: identity.seq,
      conversation: identity.conversation,
      turn: identity.turn,
      prompt_index: identity.promptIndex,
      sent: true,
      send_ms: performance.timeOrigin + sendAt,
      reconnected: send.reconnected,
      connect_ms: send.connectMs ?? null,
      ...(identity.plannedMs === undefined ? {} : { planned_ms: identity.plannedMs }),
      queue_wait_ms: identity.arrivedAt === undefined ? 0 : Math.max(0, sendAt - identity.arrivedAt),
      status: ok ? "ok" : "failed",
      error,
      in_tokens: identity.inTokens,
      server_in_tokens: serverInTokens,
      cached_tokens: cachedTokens,
      out_tokens: outTokens,
      asked_out_tokens: request.outputLen,
      short: ok && outTokens < request.outputLen,
      ttft_ms: latency?.ttft ?? null,
      e2e_ms: latency?.e2e ?? null,
      done_ms: doneMs,
      events,
      finish_reason: finishReason,
      ttft_content_ms: ok ? thinking.ttftContent : null,
      reasoning_tokens: thinking.reasoningTokens,
      answer_tokens: thinking.answerTokens,
      thinking_ms: ok ? thinking.thinkingMs : null,
      request_id: requestId,
    },
  };
}

/** The record of a request that arrived but was never sent (the point stopped while it waited). */
export function unsentRecord(identity: RequestIdentity, outputLen: number, reason: string): MeasuredRecord {
  const now = performance.now();
  const arrivedAt = identity.arrivedAt ?? now;
  return {
    user: identity.user, seq: identity.seq, conversation: identity.conversation, turn: identity.turn,
    prompt_index: identity.promptIndex, sent: false, send_ms: performance.timeOrigin + arrivedAt, reconnected: false, connect_ms: null,
    ...(identity.plannedMs === undefined ? {} : { planned_ms: identity.plannedMs }), queue_wait_ms: now - arrivedAt,
    status: "failed", error: reason, in_tokens: identity.inTokens, server_in_tokens: null, cached_tokens: null, out_tokens: 0,
    asked_out_tokens: outputLen, short: false, ttft_ms: null, e2e_ms: null, done_ms: now - arrivedAt, events: NO_EVENTS, finish_reason: null,
    ttft_content_ms: null, reasoning_tokens: 0, answer_tokens: 0, thinking_ms: null,
  };
}

const NO_EVENTS: MeasuredEvents = { offsets: new Float64Array(0), tokens: null };

function inNanos(tally: ThinkingTally): ThinkingTally {
  const rounded = (offset: number | null) => (offset === null ? null : nanos(offset));
  return {
    thinkingTokens: tally.thinkingTokens,
    firstThinking: rounded(tally.firstThinking),
    lastThinking: rounded(tally.lastThinking),
    firstAnswer: rounded(tally.firstAnswer),
    firstAnswerAfterThinking: rounded(tally.firstAnswerAfterThinking),
  };
}

/** Twice the room, what is there copied. */
function grown(block: Float64Array): Float64Array {
  const bigger = new Float64Array(block.length * 2);
  bigger.set(block);
  return bigger;
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
