import type { Backend } from "../backends/backend.ts";
import { mean, percentileOfSorted } from "../metrics/stats.ts";
import { closedLoopShare, shareOf } from "../workload/shards.ts";
import type { LoadShape } from "./run-point.ts";

export { DEFAULT_PRECONNECT_RATE } from "../config/run-settings.ts";

/** How many connections the point's users will hold at once: closed-loop users, or the open loop's cap. */
export function connectionsNeeded(shape: LoadShape): number {
  if (shape.trace) return 0;
  if (shape.requestRate !== null) {
    if (shape.maxConcurrency === null) return 0; // unknown: the arrivals decide
    return shape.shard ? shareOf(shape.maxConcurrency, shape.shard) : shape.maxConcurrency;
  }
  const share = shape.shard ? closedLoopShare(shape.numClients, shape.numRequests, shape.shard) : null;
  const users = share ? share.users.length : shape.numClients;
  const budget = share ? share.maxRequests : shape.numRequests;
  return budget === null ? users : Math.min(users, budget);
}

export interface PreconnectReport {
  connections: number;
  rate_per_s: number;
  /** How long opening them took (ms), before the clock started. */
  ms: number;
  /** Why it stopped early, when it did (the users then connect as they start). */
  error?: string;
}

/** Opens the point's connections ahead of its clock; a failure is reported, never fatal. */
export async function preconnect(backend: Backend, shape: LoadShape, ratePerSecond: number, signal: AbortSignal | undefined): Promise<PreconnectReport | null> {
  const connections = connectionsNeeded(shape);
  if (!backend.preconnect || connections === 0) return null;
  const started = performance.now();
  const report: PreconnectReport = { connections, rate_per_s: ratePerSecond, ms: 0 };
  try {
    await backend.preconnect(connections, { ratePerSecond, signal: signal ?? new AbortController().signal });
  } catch (error) {
    report.error = (error as Error)?.message ?? String(error);
  }
  report.ms = performance.now() - started;
  return report;
}

export interface ConnectSummary {
  /** Requests that opened a connection of their own (the rest went on kept-alive or preconnected ones). */
  requests_connected: number;
  mean: number | null;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** The distribution of connect_ms over the requests that connected (null values: reused connections). */
export function connectSummary(connectMs: readonly (number | null)[]): ConnectSummary {
  const values = connectMs.filter((v): v is number => v !== null).sort((a, b) => a - b);
  if (values.length === 0) return { requests_connected: 0, mean: null, p50: null, p99: null, max: null };
  return { requests_connected: values.length, mean: mean(values), p50: percentileOfSorted(values, 50), p99: percentileOfSorted(values, 99), max: values.at(-1)! };
}
