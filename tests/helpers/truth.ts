/**
 * Client-minus-server comparisons against the simulator's truth log. Timing assertions in tests go
 * through these, with tolerances that hold on a loaded 2-core machine; absolute speed goals live in bench/.
 */

export interface TruthTiming {
  arrival_ms: number;
  token_ms: number[];
  end_ms: number;
}

export interface ClientTiming {
  send_ms: number;
  ttft_ms: number;
  e2e_ms: number;
}

/**
 * How late the client saw what the server wrote, averaged over requests: on a loaded 2-core machine a
 * scheduler hiccup can hold one process back by tens of ms, so tests compare the mean and the
 * median against this, and the minimum against −CLOCK_SLACK_MS (nothing is seen before it was written).
 */
export const DELIVERY_TOLERANCE_MS = 50;
/** performance.timeOrigin of two processes can disagree by a fraction of a millisecond. */
export const CLOCK_SLACK_MS = 1;

export const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Lags (client receipt − server write) of the first and of the last token, matched by rank. */
export function deliveryLags(records: ClientTiming[], truth: TruthTiming[]): { first: number[]; last: number[] } {
  const byRank = (seen: number[], written: number[]) => {
    seen.sort((a, b) => a - b);
    written.sort((a, b) => a - b);
    return seen.map((s, i) => s - written[i]!);
  };
  return {
    first: byRank(records.map((r) => r.send_ms + r.ttft_ms), truth.map((t) => t.token_ms[0]!)),
    last: byRank(records.map((r) => r.send_ms + r.e2e_ms), truth.map((t) => t.token_ms.at(-1)!)),
  };
}

/** The server's own TTFT (arrival to first write), TPOT and per-token ITL, averaged over requests. */
export function serverTimings(truth: TruthTiming[]): { ttft: number; tpot: number; itl: number } {
  const ttft = mean(truth.map((t) => t.token_ms[0]! - t.arrival_ms));
  const tpot = mean(truth.filter((t) => t.token_ms.length > 1).map((t) => (t.token_ms.at(-1)! - t.token_ms[0]!) / (t.token_ms.length - 1)));
  return { ttft, tpot, itl: itlPerToken(truth) };
}

/** Per token, as the client computes ITL: each event's gap to the previous event, over the event's tokens. */
function itlPerToken(truth: TruthTiming[]): number {
  let sum = 0;
  let count = 0;
  for (const t of truth) {
    // tokens that share an event share a write time
    const events: [number, number][] = [];
    for (const at of t.token_ms) {
      const last = events.at(-1);
      if (last && last[0] === at) last[1]++;
      else events.push([at, 1]);
    }
    for (let i = 1; i < events.length; i++) {
      sum += events[i]![0] - events[i - 1]![0];
      count += events[i]![1];
    }
  }
  return sum / count;
}
