/**
 * main's column writers as they were before the metric registry (commit d750618), frozen as the
 * oracle of tests/metric-registry.test.ts: the registry must write the very same CSV columns,
 * cells and JSON keys. Do not change this file to make a test pass; it is the old behaviour.
 */
import type { Distribution } from "../../src/metrics/stats.ts";
import type { Goodput, GoodputSlo } from "../../src/metrics/goodput.ts";
import type { GaugeStats } from "../../src/metrics/server-gauges.ts";
import type { Summary } from "../../src/metrics/summarize.ts";
import type { TurnStats } from "../../src/metrics/per-turn.ts";

export interface LegacyLabels {
  modelSize: string;
  tp: number;
  numClients: number | string;
  mode: string;
  requestRate?: number | null;
}

const STAT_NAMES = ["min", "max", "mean", "median", "std", "p90", "p99"] as const;
const LATENCIES = ["ttft", "tpot", "e2e", "itl"] as const;

export const LEGACY_SEED_COLUMNS: readonly string[] = [
  "model_size(B)", "tp", "num_clients", "mode",
  "completed", "success_rate", "qps",
  "total_inlen", "total_outlen", "avg_inlen", "avg_outlen", "max_inlen", "max_outlen",
  "o_tps", "io_tps",
  ...LATENCIES.flatMap((metric) => STAT_NAMES.map((stat) => `${stat}_${metric}`)),
];

export const LEGACY_EXTRA_COLUMNS: readonly string[] = [
  "failed", "duration_s", "tokens_per_event", "server_total_inlen", "short_outputs",
  "request_rate", "mean_concurrency", "max_concurrency", "mean_queue_wait", "p99_queue_wait",
  "goodput", "goodput_ratio",
  "server_mean_running", "server_max_running", "server_mean_waiting", "server_max_waiting",
  "server_mean_kv_cache_usage", "server_max_kv_cache_usage",
  ...STAT_NAMES.map((stat) => `${stat}_ttft_content`),
  ...STAT_NAMES.map((stat) => `${stat}_thinking_time`),
  "total_reasoning_tokens", "avg_reasoning_tokens", "total_answer_tokens", "avg_answer_tokens", "no_answer",
  "prefix_cache_hit_rate", "total_cached_tokens",
  "isl", "osl",
];

export const LEGACY_CSV_COLUMNS: readonly string[] = [...LEGACY_SEED_COLUMNS, ...LEGACY_EXTRA_COLUMNS];

export const LEGACY_HISTORY_METRICS = [
  "completed", "failed", "success_rate", "qps", "o_tps", "io_tps",
  "mean_ttft", "median_ttft", "p90_ttft", "p99_ttft",
  "mean_tpot", "median_tpot", "p90_tpot", "p99_tpot",
  "mean_itl", "p99_itl", "mean_e2e", "p99_e2e",
] as const;

function percentileColumns(summary: Summary): { column: string; metric: (typeof LATENCIES)[number]; label: string }[] {
  const labels = new Set<string>();
  for (const metric of LATENCIES) for (const label of Object.keys(summary[metric]?.percentiles ?? {})) labels.add(label);
  return LATENCIES.flatMap((metric) =>
    [...labels].map((label) => ({ column: `p${label}_${metric}`, metric, label })).filter(({ column }) => !LEGACY_SEED_COLUMNS.includes(column)),
  );
}

export function legacyIsPercentileColumn(key: string): boolean {
  return /^p\d+(\.\d+)?_(ttft|tpot|e2e|itl)$/.test(key) && !LEGACY_SEED_COLUMNS.includes(key);
}

export type LegacyRow = Record<string, string | number | null>;

export function legacySummaryRow(summary: Summary, labels: LegacyLabels, good: Goodput | null = null, gauges: Record<string, GaugeStats> = {}): LegacyRow {
  const row: LegacyRow = {
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
  row.prefix_cache_hit_rate = gauges.prefix_cache_hit_rate?.mean ?? null;
  row.total_cached_tokens = summary.total_cached_tokens;
  row.isl = null;
  row.osl = null;
  for (const { column, metric, label } of chosen) row[column] = summary[metric]?.percentiles?.[label] ?? null;
  return row;
}

export function legacyColumnsOf(row: LegacyRow | undefined): readonly string[] {
  const chosen = row ? Object.keys(row).filter(legacyIsPercentileColumn) : [];
  return chosen.length > 0 ? [...LEGACY_CSV_COLUMNS, ...chosen] : LEGACY_CSV_COLUMNS;
}

const COUNT_COLUMNS = new Set([
  "tp", "num_clients", "completed", "total_inlen", "total_outlen", "max_inlen", "max_outlen",
  "failed", "server_total_inlen", "short_outputs", "max_concurrency", "total_cached_tokens", "isl", "osl",
]);

export function legacyFormatCell(column: string, value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return COUNT_COLUMNS.has(column) ? String(value) : value.toFixed(3);
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function legacyCsv(rows: LegacyRow[]): string {
  const columns = legacyColumnsOf(rows[0]);
  return columns.join(",") + "\n" + rows.map((row) => columns.map((column) => legacyFormatCell(column, row[column])).join(",") + "\n").join("");
}

/** main's runner/point-summary.ts summaryObject, over the legacy row. */
export function legacySummaryObject(
  point: { summary: Summary; steady: Summary; perTurn: TurnStats[]; row: LegacyRow },
  inputs: { labels: LegacyLabels; goodput: GoodputSlo | null; steadyWindowMs: [number, number] },
  extra: { numTurns: number; serverGauges: unknown; rest: Record<string, unknown> },
): Record<string, unknown> {
  return {
    ...point.row,
    requests: point.summary.requests,
    failures: point.summary.failures,
    queue_wait_ms: point.summary.queue_wait,
    server_gauges: extra.serverGauges,
    ...(inputs.goodput ? { goodput_slo_ms: inputs.goodput } : {}),
    steady: legacySummaryRow(point.steady, inputs.labels, null),
    ...(extra.numTurns > 1 ? { per_turn: point.perTurn } : {}),
    ...extra.rest,
    steady_window_ms: inputs.steadyWindowMs,
  };
}
