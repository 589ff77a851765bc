/**
 * From the compact stats of a point's requests to its summary files: shared by a running point and
 * by `llmbench merge`, so that merged shards give exactly the numbers one process would have.
 */
import { goodput, type Goodput, type GoodputSlo } from "../metrics/goodput.ts";
import { statsByTurn, type TurnStats } from "../metrics/per-turn.ts";
import type { RequestStats } from "../metrics/request-stats.ts";
import type { GaugeStats } from "../metrics/server-gauges.ts";
import type { PrefixCacheDelta } from "../metrics/prefix-cache.ts";
import { summarize, type Summary } from "../metrics/summarize.ts";
import { metricRow, type PointLabels, type Row } from "../report/seed-columns.ts";

export interface PointSummary {
  summary: Summary;
  steady: Summary;
  perTurn: TurnStats[];
  goodput: Goodput | null;
  row: Row;
  /** The steady state's row (no goodput, no gauges: they are the point's). */
  steadyRow: Row;
}

export interface SummaryInputs {
  labels: PointLabels;
  goodput: GoodputSlo | null;
  /** Epoch ms: requests sent in [from, to) count in the steady-state summary. */
  steadyWindowMs: [number, number];
  gauges: Record<string, GaugeStats>;
  /** The growth of the server's prefix-cache counters over the point; null or absent when it serves none. */
  prefixCache?: PrefixCacheDelta | null;
  /** Percentiles reported besides the fixed ones (--metric-percentiles). */
  percentiles?: readonly number[];
}

export function summarizePoint(requests: readonly RequestStats[], inputs: SummaryInputs): PointSummary {
  const percentiles = inputs.percentiles ?? [];
  const summary = summarize(requests, percentiles);
  const [steadyFrom, steadyTo] = inputs.steadyWindowMs;
  const steadyRequests = requests.filter((r) => r.sendMs >= steadyFrom && r.sendMs < steadyTo);
  const steady = summarize(steadyRequests, percentiles);
  const perTurn = statsByTurn(requests);
  const good = inputs.goodput === null ? null : goodput(requests, inputs.goodput, summary.duration_s);
  const row = metricRow({ summary, requests, labels: inputs.labels, goodput: good, gauges: inputs.gauges, percentiles, prefixCache: inputs.prefixCache ?? null });
  const steadyRow = metricRow({ summary: steady, requests: steadyRequests, labels: inputs.labels, goodput: null, gauges: {}, percentiles });
  return { summary, steady, perTurn, goodput: good, row, steadyRow };
}

/** The summary.json object of a point, metric keys first; `rest` adds the context (backend, model, …) and anything else. */
export function summaryObject(point: PointSummary, inputs: SummaryInputs, extra: { numTurns: number; serverGauges: unknown; rest: Record<string, unknown> }): Record<string, unknown> {
  return {
    ...point.row,
    requests: point.summary.requests,
    failures: point.summary.failures,
    queue_wait_ms: point.summary.queue_wait,
    server_gauges: extra.serverGauges,
    ...(inputs.goodput ? { goodput_slo_ms: inputs.goodput } : {}),
    steady: point.steadyRow,
    ...(extra.numTurns > 1 ? { per_turn: point.perTurn } : {}),
    ...extra.rest,
    steady_window_ms: inputs.steadyWindowMs,
  };
}
