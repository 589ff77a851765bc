import type { Backend, GenerationOutcome } from "../backends/backend.ts";
import { requestLatency, type RequestLatency, type TokenEvent } from "../metrics/request-latency.ts";

export interface ProbeToken {
  /** Offset from the send (ms). */
  offsetMs: number;
  tokens: number;
  text: string;
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
  const sendAt = performance.now();
  const outcome = await backend.generate(
    { id: 1, messages: [{ role: "user", content: prompt }], outputLen },
    (at, tokens, text) => {
      const offsetMs = at - sendAt;
      if (tokens > 0) {
        events.push([offsetMs, tokens]);
        streamedTokens += tokens;
      }
      onEvent({ offsetMs, tokens, text });
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
  return { outcome, events, streamedTokens, outTokens, latency, rawEventCount, firstRaw, lastRaw };
}
