/**
 * The columns of a point's row (summary.csv, summary.json, the sweep's rows), written from the
 * metric registry (metrics/registry.ts): its order is the CSV's, the seed's 43 columns first.
 */
import type { Goodput } from "../metrics/goodput.ts";
import { distributionValue, METRICS, scalarValue, type DistributionMetric, type Metric, type MetricInput, type PointLabels, type Stat } from "../metrics/registry.ts";
import type { RequestStats } from "../metrics/request-stats.ts";
import type { GaugeStats } from "../metrics/server-gauges.ts";
import type { PrefixCacheDelta } from "../metrics/prefix-cache.ts";
import type { Distribution } from "../metrics/stats.ts";
import type { Summary } from "../metrics/summarize.ts";

export type { PointLabels } from "../metrics/registry.ts";

/** One column and the metric (and statistic) it holds. */
export interface Column {
  column: string;
  metric: Metric;
  stat: Stat | null;
}

export function columnsOfMetric(metric: Metric): Column[] {
  return metric.kind === "scalar" ? [{ column: metric.name, metric, stat: null }] : metric.columns.map((stat) => ({ column: `${stat}_${metric.name}`, metric, stat }));
}

/** Every fixed column, in the registry's order. */
export const COLUMNS: readonly Column[] = METRICS.flatMap(columnsOfMetric);
const BY_NAME = new Map(COLUMNS.map((column) => [column.column, column]));

/** The seed's 43 CSV columns, in its order (shared/reference-results). Times in ms. */
export const SEED_COLUMNS: readonly string[] = COLUMNS.filter((c) => c.metric.seed).map((c) => c.column);

/** Columns llmbench adds after the seed's. */
export const EXTRA_COLUMNS: readonly string[] = COLUMNS.filter((c) => !c.metric.seed).map((c) => c.column);

if (COLUMNS.slice(0, SEED_COLUMNS.length).some((c) => !c.metric.seed)) throw new Error("metric registry: the seed's columns must come first");

export function columnNamed(name: string): Column | undefined {
  return BY_NAME.get(name);
}

/** Counts, written as integers. */
export function isIntegerColumn(name: string): boolean {
  const column = BY_NAME.get(name);
  return column?.metric.kind === "scalar" && column.metric.format === "integer";
}

const CHOSEN = METRICS.filter((m): m is DistributionMetric => m.kind === "distribution" && m.chosenPercentiles === true);
const CHOSEN_PATTERN = new RegExp(`^p\\d+(\\.\\d+)?_(${CHOSEN.map((m) => m.name.replace(/[^\w]/g, "\\$&")).join("|")})$`);

/** Whether a row key is a chosen-percentile column (`p95_ttft`), which follows the fixed columns in a CSV. */
export function isPercentileColumn(key: string): boolean {
  return CHOSEN_PATTERN.test(key) && !BY_NAME.has(key);
}

export type Row = Record<string, string | number | null>;

/** One flat row keyed by column name: the registry's columns in order, then the chosen percentiles (`p95_ttft`, … in metric order). */
export function metricRow(input: MetricInput): Row {
  const row: Row = {};
  const chosen = new Map<DistributionMetric, Distribution | null>();
  for (const metric of METRICS) {
    if (metric.kind === "scalar") {
      row[metric.name] = scalarValue(metric, input);
      continue;
    }
    const value = distributionValue(metric, input);
    for (const stat of metric.columns) row[`${stat}_${metric.name}`] = value ? value[stat] : null;
    if (metric.chosenPercentiles) chosen.set(metric, value);
  }
  const labels = new Set<string>();
  for (const value of chosen.values()) for (const label of Object.keys(value?.percentiles ?? {})) labels.add(label);
  for (const [metric, value] of chosen) {
    for (const label of labels) {
      const column = `p${label}_${metric.name}`;
      if (!BY_NAME.has(column)) row[column] = value?.percentiles?.[label] ?? null;
    }
  }
  return row;
}

/** The row of a summary (and of the requests it covers, for the metrics computed from them). */
export function summaryRow(
  summary: Summary,
  labels: PointLabels,
  good: Goodput | null = null,
  gauges: Record<string, GaugeStats> = {},
  requests: readonly RequestStats[] = [],
  percentiles: readonly number[] = [],
  prefixCache: PrefixCacheDelta | null = null,
): Row {
  return metricRow({ summary, labels, goodput: good, gauges, requests, percentiles, prefixCache });
}
