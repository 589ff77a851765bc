import type { Backend, GenerationOutcome } from "../backends/backend.ts";
import { describeNetworkError } from "../backends/transport/http.ts";
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

export interface ReadinessCheck {
  /** Null when the server answered as ready. */
  failure: string | null;
  ms: number;
}

/**
 * The backend's health check, as a run does it before measuring: it also opens the connection
 * (a gRPC channel's handshake is tens of ms), so the probe's TTFT is measured on a warm one, as a
 * run's is. A failure is reported, not fatal: the request may still show why.
 */
export async function checkReadiness(backend: Backend, timeoutMs: number): Promise<ReadinessCheck> {
  const started = performance.now();
  try {
    await backend.checkHealth(AbortSignal.timeout(timeoutMs));
    return { failure: null, ms: performance.now() - started };
  } catch (error) {
    const failure = (error as Error)?.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : describeNetworkError(error);
    return { failure, ms: performance.now() - started };
  }
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
