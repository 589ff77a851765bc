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

/**
 * Token events packed in one Float64Array, offset and tokens of each in turn (offset, tokens,
 * offset, tokens, …): how a request's events are held from its stream to its line in
 * requests.jsonl, with no 2-element array per event for the garbage collector.
 */
export type PackedEvents = Float64Array;

/** The pairs of packed events (for code that wants them as a record holds them in a file). */
export function unpackEvents(packed: PackedEvents): Array<[number, number]> {
  const events: Array<[number, number]> = new Array(packed.length >> 1);
  for (let i = 0; i < events.length; i++) events[i] = [packed[2 * i]!, packed[2 * i + 1]!];
  return events;
}

/** requestLatency of packed events. */
export function packedRequestLatency(events: PackedEvents, outTokens: number): RequestLatency | null {
  let first: number | null = null;
  let last: number | null = null;
  for (let i = 0; i + 1 < events.length; i += 2) {
    if (events[i + 1]! <= 0) continue;
    if (first === null) first = events[i]!;
    last = events[i]!;
  }
  if (first === null || last === null) return null;
  const tpot = outTokens >= 2 ? (last - first) / (outTokens - 1) : null;
  return { ttft: first, e2e: last, tpot };
}

/** interTokenLatencies of packed events, into an array of exactly their number. */
export function packedInterTokenLatencies(events: PackedEvents): Float64Array {
  let count = 0;
  let seen = false;
  for (let i = 1; i < events.length; i += 2) {
    const tokens = events[i]!;
    if (tokens <= 0) continue;
    if (seen) count += Math.ceil(tokens); // as many samples as the loop below writes
    seen = true;
  }
  const samples = new Float64Array(count);
  let previous: number | null = null;
  let at = 0;
  for (let i = 0; i + 1 < events.length; i += 2) {
    const offset = events[i]!;
    const tokens = events[i + 1]!;
    if (tokens <= 0) continue;
    if (previous !== null) {
      const perToken = (offset - previous) / tokens;
      for (let k = 0; k < tokens; k++) samples[at++] = perToken;
    }
    previous = offset;
  }
  return samples;
}
