/** Per-request latencies from the token events of one stream (offsets in ms from the send). */

export type TokenEvent = readonly [offsetMs: number, tokens: number];

export interface RequestLatency {
  ttft: number;
  e2e: number;
  /** (E2E − TTFT) / (out_tokens − 1); null for answers of fewer than two tokens. */
  tpot: number | null;
}

/** TTFT from the first event carrying a token, E2E from the last; null when no token came. */
export function requestLatency(events: readonly TokenEvent[], outTokens: number): RequestLatency | null {
  let first: number | null = null;
  let last: number | null = null;
  for (const [offset, tokens] of events) {
    if (tokens <= 0) continue;
    if (first === null) first = offset;
    last = offset;
  }
  if (first === null || last === null) return null;
  const tpot = outTokens >= 2 ? (last - first) / (outTokens - 1) : null;
  return { ttft: first, e2e: last, tpot };
}

/**
 * Inter-token latencies, one sample per token: an event carrying k tokens that arrives Δ after
 * the previous token event gives k samples of Δ/k. The first event has no predecessor and gives none.
 */
export function interTokenLatencies(events: readonly TokenEvent[], into: number[] = []): number[] {
  let previous: number | null = null;
  for (const [offset, tokens] of events) {
    if (tokens <= 0) continue;
    if (previous !== null) {
      const perToken = (offset - previous) / tokens;
      for (let i = 0; i < tokens; i++) into.push(perToken);
    }
    previous = offset;
  }
  return into;
}
