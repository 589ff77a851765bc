/**
 * The load a doctor judges the host against: how many connections are open at the busiest point,
 * whether a server is launched on this host, how many records will be written and where.
 */
import type { ResolvedBenchConfig, SweepPoint } from "../config/bench-config.ts";

/**
 * Seconds one request is assumed to stay open at a request rate, to turn a rate into concurrent
 * connections (Little's law: in flight = rate × time in flight). A long streamed answer (2,000
 * tokens at ~35 tokens/s) takes about this long; the true figure is known only after a run.
 */
export const ASSUMED_REQUEST_S = 60;

/** Backends whose requests share one HTTP/2 channel (gRPC) instead of a connection each. */
const MULTIPLEXED_BACKENDS = new Set(["ppl"]);

export interface DoctorPlan {
  /** What the plan came from, for the report's first line. */
  source: string;
  /** Concurrent requests at the busiest point; null when no load was given. */
  peakRequests: number | null;
  /** The busiest point, e.g. "clients=1000" or "rate=50 (≈3000 in flight)". */
  peakPoint: string | null;
  /** TCP connections to the server at the busiest point (one per request, or one gRPC channel). */
  peakConnections: number | null;
  /** True when llmbench launches the server on this host (its listen backlog is this host's). */
  launchesLocalServer: boolean;
  /** Where records go (the archive root). */
  outputDir: string;
  /** Requests of the whole sweep, when its budget bounds them; null when only time bounds it. */
  plannedRequests: number | null;
  /** Output tokens asked for per request, when the config fixes it. */
  outputLen: number | null;
  config: ResolvedBenchConfig | null;
}

/** Concurrent requests of one point: its clients, or for a rate its expected requests in flight. */
export function pointConcurrency(point: SweepPoint, numRequests: number | null): number {
  if (point.kind === "clients") return point.clients;
  if (point.kind === "trace") return Math.min(numRequests ?? 1, 1); // a trace's concurrency is its own: at least one
  const inFlight = point.rate === Infinity ? Infinity : Math.ceil(point.rate * ASSUMED_REQUEST_S);
  return Math.min(inFlight, numRequests ?? Infinity);
}

export function planFromConfig(config: ResolvedBenchConfig): DoctorPlan {
  const { sweep } = config;
  let peak = 0;
  let peakPoint: string | null = null;
  for (const point of sweep.points) {
    const concurrency = pointConcurrency(point, sweep.numRequests);
    if (concurrency > peak || peakPoint === null) {
      peak = concurrency;
      peakPoint = point.kind === "clients" ? `clients=${point.clients}` : point.kind === "rate" ? `rate=${point.rate} (≈${concurrency} in flight)` : `trace ${point.trace}`;
    }
  }
  const perPoint = sweep.points.map((point) => pointRequests(point, sweep.numRequests, sweep.stopTimeS));
  const plannedRequests = perPoint.every((n) => n !== null) ? perPoint.reduce((a, b) => a! + b!, 0) : null;
  const finitePeak = Number.isFinite(peak) ? peak : null;
  return {
    source: config.configPath,
    peakRequests: finitePeak,
    peakPoint,
    peakConnections: finitePeak === null ? null : MULTIPLEXED_BACKENDS.has(config.backend) ? 1 : finitePeak,
    launchesLocalServer: config.launch !== null,
    outputDir: config.outputDir,
    plannedRequests,
    outputLen: config.dataset.outputLen,
    config,
  };
}

/** A plan from `doctor --clients N` alone (no config): N connections, records under outputDir. */
export function planFromClients(clients: number | null, outputDir: string): DoctorPlan {
  return {
    source: clients === null ? "no config" : `--clients ${clients}`,
    peakRequests: clients,
    peakPoint: clients === null ? null : `clients=${clients}`,
    peakConnections: clients,
    launchesLocalServer: false,
    outputDir,
    plannedRequests: null,
    outputLen: null,
    config: null,
  };
}

function pointRequests(point: SweepPoint, numRequests: number | null, stopTimeS: number | null): number | null {
  const byTime = point.kind === "rate" && stopTimeS !== null && point.rate !== Infinity ? Math.ceil(point.rate * stopTimeS) : null;
  if (numRequests !== null && byTime !== null) return Math.min(numRequests, byTime);
  return numRequests ?? byTime;
}
