import type { Summary } from "../metrics/summarize.ts";
import type { Distribution } from "../metrics/stats.ts";
import type { Goodput } from "../metrics/goodput.ts";
import type { GaugeStats } from "../metrics/server-gauges.ts";

/** Who and what was measured: the first columns of the seed's CSV. */
export interface PointLabels {
  modelSize: string;
  tp: number;
  numClients: number | string;
  mode: string;
  /** Requests per second of a rate-mode point; absent for closed-loop clients. */
  requestRate?: number | null;
}

const STAT_NAMES = ["min", "max", "mean", "median", "std", "p90", "p99"] as const;
const LATENCIES = ["ttft", "tpot", "e2e", "itl"] as const;

/** The seed's 43 CSV columns, in its order (shared/reference-results). Times in ms. */
export const SEED_COLUMNS: readonly string[] = [
  "model_size(B)", "tp", "num_clients", "mode",
  "completed", "success_rate", "qps",
  "total_inlen", "total_outlen", "avg_inlen", "avg_outlen", "max_inlen", "max_outlen",
  "o_tps", "io_tps",
  ...LATENCIES.flatMap((metric) => STAT_NAMES.map((stat) => `${stat}_${metric}`)),
];

/** Columns llmbench adds after the seed's. */
export const EXTRA_COLUMNS: readonly string[] = [
  "failed", "duration_s", "tokens_per_event", "server_total_inlen", "short_outputs",
  "request_rate", "mean_concurrency", "max_concurrency", "mean_queue_wait", "p99_queue_wait",
  "goodput", "goodput_ratio",
  "server_mean_running", "server_max_running", "server_mean_waiting", "server_max_waiting",
  "server_mean_kv_cache_usage", "server_max_kv_cache_usage",
  // reasoning models: the first answer token after the thinking, the thinking's length and time
  ...STAT_NAMES.map((stat) => `${stat}_ttft_content`),
  ...STAT_NAMES.map((stat) => `${stat}_thinking_time`),
  "total_reasoning_tokens", "avg_reasoning_tokens", "total_answer_tokens", "avg_answer_tokens", "no_answer",
  // the point's input and output lengths as set (synthetic prompts, a fixed output length; a sweep's ISL × OSL grid)
  "isl", "osl",
];

/** The chosen percentiles (--metric-percentiles) that are not already seed columns: `p95_ttft`, `p99.9_itl`, … in metric order. */
export function percentileColumns(summary: Summary): { column: string; metric: (typeof LATENCIES)[number]; label: string }[] {
  const labels = new Set<string>();
  for (const metric of LATENCIES) for (const label of Object.keys(summary[metric]?.percentiles ?? {})) labels.add(label);
  return LATENCIES.flatMap((metric) =>
    [...labels].map((label) => ({ column: `p${label}_${metric}`, metric, label })).filter(({ column }) => !SEED_COLUMNS.includes(column)),
  );
}

/** Whether a row key is a chosen-percentile column (`p95_ttft`), which follows the fixed columns in a CSV. */
export function isPercentileColumn(key: string): boolean {
  return /^p\d+(\.\d+)?_(ttft|tpot|e2e|itl)$/.test(key) && !SEED_COLUMNS.includes(key);
}

export type Row = Record<string, string | number | null>;

/** One flat row keyed by column name: the seed's columns, then llmbench's. */
export function summaryRow(summary: Summary, labels: PointLabels, good: Goodput | null = null, gauges: Record<string, GaugeStats> = {}): Row {
  const row: Row = {
    "model_size(B)": labels.modelSize,
    tp: labels.tp,
    num_clients: labels.numClients,
    mode: labels.mode,
    completed: summary.completed,
    success_rate: summary.success_rate,
    qps: summary.qps,
    total_inlen: summary.total_inlen,
    total_outlen: summary.total_outlen,
    avg_inlen: summary.avg_inlen,
    avg_outlen: summary.avg_outlen,
    max_inlen: summary.max_inlen,
    max_outlen: summary.max_outlen,
    o_tps: summary.o_tps,
    io_tps: summary.io_tps,
  };
  for (const metric of LATENCIES) {
    const distribution: Distribution | null = summary[metric];
    for (const stat of STAT_NAMES) row[`${stat}_${metric}`] = distribution ? distribution[stat] : null;
  }
  const chosen = percentileColumns(summary);
  row.failed = summary.failed;
  row.duration_s = summary.duration_s;
  row.tokens_per_event = summary.tokens_per_event;
  row.server_total_inlen = summary.server_total_inlen;
  row.short_outputs = summary.short_outputs;
  row.request_rate = labels.requestRate === undefined || labels.requestRate === null ? null : labels.requestRate === Infinity ? "inf" : labels.requestRate;
  row.mean_concurrency = summary.mean_concurrency;
  row.max_concurrency = summary.max_concurrency;
  row.mean_queue_wait = summary.queue_wait?.mean ?? null;
  row.p99_queue_wait = summary.queue_wait?.p99 ?? null;
  row.goodput = good?.goodput ?? null;
  row.goodput_ratio = good?.goodput_ratio ?? null;
  for (const gauge of ["running", "waiting", "kv_cache_usage"]) {
    row[`server_mean_${gauge}`] = gauges[gauge]?.mean ?? null;
    row[`server_max_${gauge}`] = gauges[gauge]?.max ?? null;
  }
  for (const stat of STAT_NAMES) row[`${stat}_ttft_content`] = summary.ttft_content ? summary.ttft_content[stat] : null;
  for (const stat of STAT_NAMES) row[`${stat}_thinking_time`] = summary.thinking ? summary.thinking[stat] : null;
  row.total_reasoning_tokens = summary.total_reasoning_tokens;
  row.avg_reasoning_tokens = summary.avg_reasoning_tokens;
  row.total_answer_tokens = summary.total_answer_tokens;
  row.avg_answer_tokens = summary.avg_answer_tokens;
  row.no_answer = summary.no_answer;
  for (const { column, metric, label } of chosen) row[column] = summary[metric]?.percentiles?.[label] ?? null;
  return row;
}
