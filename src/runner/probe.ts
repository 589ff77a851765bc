import type { Backend, GenerationOutcome } from "../backends/backend.ts";
import { requestLatency, type RequestLatency, type TokenEvent } from "../metrics/request-latency.ts";
import { emptyTally, tallyEvent, thinkingMetrics, type ThinkingMetrics } from "../metrics/thinking.ts";

export interface ProbeToken {
  /** Offset from the send (ms). */
  offsetMs: number;
  tokens: number;
  /** The answer's content in the event. */
  text: string;
  /** Of `tokens`, how many were thinking, and their text. */
  thinkingTokens: number;
  thinkingText: string;
}

export interface RawEvent {
  offsetMs: number;
  raw: string;
}

export interface ProbeResult {
  outcome: GenerationOutcome;
  /** Every token-carrying event, as the run would record it. */
  events: TokenEvent[];
  streamedTokens: number;
  /** The server's count where it gave one, else the streamed count: what a run records as out_tokens. */
  outTokens: number;
  latency: RequestLatency | null;
  /** Thinking and answer tokens, the first answer token's time and the thinking time, as a run records them. */
  thinking: ThinkingMetrics;
  rawEventCount: number;
  firstRaw: RawEvent | null;
  lastRaw: RawEvent | null;
}

/** Sends one request, reporting each event as it arrives, and measures it exactly as a run does. */
export async function probeOnce(
  backend: Backend,
  prompt: string,
  outputLen: number,
  signal: AbortSignal,
  onEvent: (token: ProbeToken) => void,
): Promise<ProbeResult> {
  const events: TokenEvent[] = [];
  let streamedTokens = 0;
  let rawEventCount = 0;
  let firstRaw: RawEvent | null = null;
  let lastRaw: RawEvent | null = null;
  const tally = emptyTally();
  const sendAt = performance.now();
  const outcome = await backend.generate(
    { id: 1, messages: [{ role: "user", content: prompt }], outputLen },
    (at, tokens, text, thinkingTokens, thinkingText) => {
      const offsetMs = at - sendAt;
      if (tokens > 0) {
        events.push([offsetMs, tokens]);
        streamedTokens += tokens;
        tallyEvent(tally, offsetMs, tokens, thinkingTokens);
      }
      onEvent({ offsetMs, tokens, text, thinkingTokens, thinkingText });
    },
    signal,
    (at, raw) => {
      rawEventCount++;
      lastRaw = { offsetMs: at - sendAt, raw };
      firstRaw ??= lastRaw;
    },
  );
  const outTokens = outcome.serverOutTokens ?? streamedTokens;
  const latency = outcome.error === null ? requestLatency(events, outTokens) : null;
  const thinking = thinkingMetrics(tally, outTokens, outcome.serverReasoningTokens);
  return { outcome, events, streamedTokens, outTokens, latency, thinking, rawEventCount, firstRaw, lastRaw };
}
