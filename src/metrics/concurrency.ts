import type { RequestStats } from "./request-stats.ts";

export interface ObservedConcurrency {
  /** Time-averaged number of requests in flight between the first send and the last finish. */
  mean: number;
  max: number;
}

/** How many requests were really in flight: the client controls this in closed loop, not in rate mode. */
export function observedConcurrency(requests: readonly RequestStats[]): ObservedConcurrency {
  const edges: Array<[number, number]> = [];
  let busy = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const request of requests) {
    if (!request.sent) continue;
    const end = request.sendMs + request.doneMs;
    edges.push([request.sendMs, 1], [end, -1]);
    busy += request.doneMs;
    first = Math.min(first, request.sendMs);
    last = Math.max(last, end);
  }
  if (edges.length === 0) return { mean: 0, max: 0 };
  // at equal times, ends before starts: a request that ends as another starts do not overlap
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let max = 0;
  for (const [, change] of edges) {
    current += change;
    max = Math.max(max, current);
  }
  return { mean: last > first ? busy / (last - first) : max, max };
}
