/**
 * The only numbers the HTML report derives itself: how to draw what was measured (histogram bins,
 * timeline buckets). Every statistic in its tables comes from summary.json as written.
 */

export interface Histogram {
  /** Left edge of each bin; the last bin includes its right edge. */
  edges: number[];
  /** Width of every bin. */
  width: number;
  counts: number[];
}

/** Equal-width bins from the smallest value to the largest; `bins` defaults to √n, between 5 and 60. */
export function histogram(values: ArrayLike<number>, bins?: number): Histogram {
  return histogramOfChunks([values], bins);
}

/** The histogram of every value in `chunks` (a per-token metric's arrays, one per request: not joined into one). */
export function histogramOfChunks(chunks: readonly ArrayLike<number>[], bins?: number): Histogram {
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const values of chunks) {
    n += values.length;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (n === 0) return { edges: [], width: 0, counts: [] };
  const count = bins ?? Math.min(60, Math.max(5, Math.ceil(Math.sqrt(n))));
  if (max === min) {
    // One value: one bin centred on it, wide enough to be seen.
    const width = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
    return { edges: [min - width / 2], width, counts: [n] };
  }
  const width = (max - min) / count;
  const counts = new Array<number>(count).fill(0);
  for (const values of chunks) {
    for (let i = 0; i < values.length; i++) {
      const index = Math.min(count - 1, Math.floor((values[i]! - min) / width));
      counts[index]!++;
    }
  }
  return { edges: counts.map((_, i) => min + i * width), width, counts };
}

/** What the timeline needs of one request (a line of requests.jsonl). */
export interface TimelineRequest {
  sent: boolean;
  /** Epoch ms just before it was sent. */
  send_ms: number;
  /** Offset from the send when it ended. */
  done_ms: number;
  status: "ok" | "failed";
  ttft_ms: number | null;
  /** `[offset from send in ms, tokens]` per token-carrying event, as pairs or packed (offset, tokens, offset, tokens, …). */
  events: ReadonlyArray<readonly [number, number]> | Float64Array;
}

export interface Timeline {
  /** Epoch ms of the first send: bucket i covers [start + i·bucket, start + (i+1)·bucket). */
  startMs: number;
  /** Epoch ms when the last request ended. */
  endMs: number;
  bucketMs: number;
  /** Seconds from the start, at each bucket's middle. */
  t: number[];
  /** Requests in flight, averaged over the bucket's time. */
  inFlight: number[];
  /** Output tokens that arrived in the bucket, per second. */
  tokensPerS: number[];
  /** Mean TTFT (ms) of the successful requests whose first token arrived in the bucket; null where none did. */
  ttftMs: (number | null)[];
  /** Requests that failed in the bucket. */
  failed: number[];
}

/** A bucket length that gives at most `maxBuckets` buckets: 100 ms, 200, 500, 1 s, 2, 5, 10, … */
export function bucketLength(spanMs: number, maxBuckets = 200): number {
  for (let scale = 100; ; scale *= 10) {
    for (const step of [1, 2, 5]) if (spanMs / (step * scale) <= maxBuckets) return step * scale;
  }
}

/** Requests in flight, output tokens per second and TTFT over a point, in time buckets. */
export function timeline(requests: readonly TimelineRequest[], maxBuckets = 200): Timeline | null {
  return timelineOf(requests, (add) => {
    for (const r of requests) if (r.sent) eachTokenEvent(r.events, r.send_ms, add);
  }, maxBuckets);
}

/** A request of the timeline without its token events (they come to timelineOf on their own). */
export type TimelineSpan = Omit<TimelineRequest, "events">;

/** Calls `add` with the epoch ms and tokens of each of a request's token-carrying events. */
export function eachTokenEvent(events: TimelineRequest["events"], sendMs: number, add: (atMs: number, tokens: number) => void): void {
  if (events instanceof Float64Array) {
    for (let i = 0; i < events.length; i += 2) if (events[i + 1]! > 0) add(sendMs + events[i]!, events[i + 1]!);
  } else for (const [offset, n] of events) if (n > 0) add(sendMs + offset, n);
}

/**
 * The timeline of `requests`, whose token events (of the sent ones) `eachTokens` hands to its
 * `add` once the buckets are known: the report reads them from requests.jsonl a second time
 * rather than holding every token event of the point (see eachTokenEvent).
 */
export function timelineOf(requests: readonly TimelineSpan[], eachTokens: (add: (atMs: number, tokens: number) => void) => void, maxBuckets = 200): Timeline | null {
  const sent = requests.filter((r) => r.sent);
  if (sent.length === 0) return null;
  let startMs = Infinity;
  let endMs = -Infinity;
  for (const r of sent) {
    startMs = Math.min(startMs, r.send_ms);
    endMs = Math.max(endMs, r.send_ms + r.done_ms);
  }
  const bucketMs = bucketLength(Math.max(endMs - startMs, 1), maxBuckets);
  const count = Math.max(1, Math.ceil((endMs - startMs) / bucketMs));
  const busyMs = new Array<number>(count).fill(0);
  const tokens = new Array<number>(count).fill(0);
  const ttftSum = new Array<number>(count).fill(0);
  const ttftCount = new Array<number>(count).fill(0);
  const failed = new Array<number>(count).fill(0);
  const bucketOf = (at: number) => Math.min(count - 1, Math.max(0, Math.floor((at - startMs) / bucketMs)));

  for (const r of sent) {
    const from = r.send_ms;
    const to = r.send_ms + r.done_ms;
    for (let b = bucketOf(from); b <= bucketOf(to); b++) {
      const left = startMs + b * bucketMs;
      busyMs[b]! += Math.max(0, Math.min(to, left + bucketMs) - Math.max(from, left));
    }
    if (r.status === "ok" && r.ttft_ms !== null) {
      const b = bucketOf(from + r.ttft_ms);
      ttftSum[b]! += r.ttft_ms;
      ttftCount[b]!++;
    } else if (r.status !== "ok") {
      failed[bucketOf(to)]!++;
    }
  }
  eachTokens((atMs, n) => {
    tokens[bucketOf(atMs)]! += n;
  });
  // The last bucket ends with the point: it may be shorter than the others.
  const widthOf = (b: number) => (b < count - 1 ? bucketMs : Math.max(endMs - (startMs + b * bucketMs), 1e-9));
  return {
    startMs,
    endMs,
    bucketMs,
    t: busyMs.map((_, b) => (b * bucketMs + widthOf(b) / 2) / 1000),
    inFlight: busyMs.map((ms, b) => ms / widthOf(b)),
    tokensPerS: tokens.map((n, b) => n / (widthOf(b) / 1000)),
    ttftMs: ttftSum.map((sum, b) => (ttftCount[b]! > 0 ? sum / ttftCount[b]! : null)),
    failed,
  };
}
