/** Per-request latencies from the token events of one stream (offsets in ms from the send). */

export type TokenEvent = readonly [offsetMs: number, tokens: number];

export interface RequestLatency {
  ttft: number;
  e2e: number;
  /** (E2E − TTFT) / (out_tokens − 1); null for answers of fewer than two tokens. */
  tpot: number | null;
}

/** TTFT from the first event carrying a token, E2E from the last; null when no token came. (Pairs, as a record file holds them.) */
export function requestLatency(events: readonly TokenEvent[], outTokens: number): RequestLatency | null {
  return measuredRequestLatency(packedEvents(events), outTokens);
}

/**
 * Inter-token latencies, one sample per token: an event carrying k tokens that arrives Δ after
 * the previous token event gives k samples of Δ/k. The first event has no predecessor and gives none.
 */
export function interTokenLatencies(events: readonly TokenEvent[]): number[] {
  return Array.from(interTokenSamples(packedEvents(events), (count) => new Float64Array(count)));
}

/**
 * A request's token events as measured, from its stream to its line in requests.jsonl: each
 * event's offset from the send in one Float64Array, and each event's tokens in another of the
 * same length, or null when every event carried exactly one (nearly every stream: 8 bytes a
 * token, not 16, and no 2-element array per event for the garbage collector).
 */
export interface MeasuredEvents {
  offsets: Float64Array;
  tokens: Float64Array | null;
}

/** The events as pairs, as a record holds them in a file. */
export function eventPairs(events: MeasuredEvents): Array<[number, number]> {
  const { offsets, tokens } = events;
  const pairs: Array<[number, number]> = new Array(offsets.length);
  for (let i = 0; i < offsets.length; i++) pairs[i] = [offsets[i]!, tokens === null ? 1 : tokens[i]!];
  return pairs;
}

/** Pairs (as a record file holds them) as measured events. */
export function packedEvents(events: readonly TokenEvent[]): MeasuredEvents {
  const offsets = new Float64Array(events.length);
  let tokens: Float64Array | null = null;
  for (let i = 0; i < events.length; i++) {
    const [offset, count] = events[i]!;
    offsets[i] = offset;
    if (count !== 1 && tokens === null) tokens = new Float64Array(events.length).fill(1, 0, i);
    if (tokens !== null) tokens[i] = count;
  }
  return { offsets, tokens };
}

/** TTFT, E2E and TPOT of measured events (see requestLatency). */
export function measuredRequestLatency(events: MeasuredEvents, outTokens: number): RequestLatency | null {
  const { offsets, tokens } = events;
  let first: number | null = null;
  let last: number | null = null;
  for (let i = 0; i < offsets.length; i++) {
    if (tokens !== null && tokens[i]! <= 0) continue;
    if (first === null) first = offsets[i]!;
    last = offsets[i]!;
  }
  if (first === null || last === null) return null;
  const tpot = outTokens >= 2 ? (last - first) / (outTokens - 1) : null;
  return { ttft: first, e2e: last, tpot };
}

/**
 * The inter-token latencies of measured events (see interTokenLatencies), in an array of exactly
 * their number. A point keeps these for every token it measured (10,000 streams × 256 tokens: 2.5
 * million) until its summary, so in single precision: 4 bytes a sample, 24 bits of mantissa (a
 * 5 ms gap to within a nanosecond, a 10 s one to within a microsecond), far finer than any clock
 * a server or client has.
 */
export function measuredInterTokenLatencies(events: MeasuredEvents): Float32Array {
  return interTokenSamples(events, (count) => new Float32Array(count));
}

function interTokenSamples<T extends Float32Array | Float64Array>(events: MeasuredEvents, allocate: (count: number) => T): T {
  const { offsets, tokens } = events;
  let count = 0;
  let seen = false;
  for (let i = 0; i < offsets.length; i++) {
    const n = tokens === null ? 1 : tokens[i]!;
    if (n <= 0) continue;
    if (seen) count += Math.ceil(n); // as many samples as the loop below writes
    seen = true;
  }
  const samples = allocate(count);
  let previous: number | null = null;
  let at = 0;
  for (let i = 0; i < offsets.length; i++) {
    const n = tokens === null ? 1 : tokens[i]!;
    if (n <= 0) continue;
    if (previous !== null) {
      const perToken = (offsets[i]! - previous) / n;
      for (let k = 0; k < n; k++) samples[at++] = perToken;
    }
    previous = offsets[i]!;
  }
  return samples;
}

/** How many of the events carried at least one token. */
export function measuredTokenEvents(events: MeasuredEvents): number {
  if (events.tokens === null) return events.offsets.length;
  let count = 0;
  for (let i = 0; i < events.tokens.length; i++) if (events.tokens[i]! > 0) count++;
  return count;
}
