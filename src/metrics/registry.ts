/**
 * Every metric of a point, defined once: its name, unit, how it is computed from the point's
 * summary or its requests' stats, what it needs, its display label and digits, and where it is
 * shown. The CSV columns (in this list's order: the seed's first), summary.json, the console, the
 * history and the HTML report are all written from this list by the writers in report/ and
 * archive/; this module only computes.
 *
 * A new metric is one entry here. A number computed from the requests (RequestStats):
 *   scalar({ name: "cache_hit_rate", label: "prefix cache hit", unit: "fraction", digits: 3, history: true,
 *            value: ({ requests }) => ... }),
 * A distribution of a per-request number, over the completed (or all sent) requests:
 *   distribution({ name: "connect", label: "connect", unit: "ms", digits: 2, columns: ["mean", "p99"],
 *                  sample: { over: "sent", value: (r) => r.connectMs } }),
 */
import type { Goodput } from "./goodput.ts";
import type { RequestStats } from "./request-stats.ts";
import type { GaugeStats } from "./server-gauges.ts";
import type { PrefixCacheDelta } from "./prefix-cache.ts";
import { describeInPlace as describeSample, type Distribution } from "./stats.ts";
import type { Summary } from "./summarize.ts";

/** Who and what was measured: the label columns of a row. */
export interface PointLabels {
  modelSize: string;
  tp: number;
  numClients: number | string;
  mode: string;
  /** Requests per second of a rate-mode point; absent for closed-loop clients. */
  requestRate?: number | null;
}

/** Everything a metric may be computed from: one point's (or its steady state's) requests and their summary. */
export interface MetricInput {
  summary: Summary;
  /** The requests the summary covers. */
  requests: readonly RequestStats[];
  labels: PointLabels;
  /** Null without SLOs (--goodput) and for the steady state. */
  goodput: Goodput | null;
  /** The server's gauges over the point; empty when not sampled (and for the steady state). */
  gauges: Readonly<Record<string, GaugeStats>>;
  /** Percentiles chosen besides the fixed ones (--metric-percentiles). */
  percentiles: readonly number[];
  /** The growth of the server's prefix-cache counters over the point; null when it serves none (and for the steady state). */
  prefixCache?: PrefixCacheDelta | null;
}

export type Stat = "min" | "max" | "mean" | "median" | "std" | "p90" | "p99";
/** The seed's order of a distribution's columns. */
export const STATS: readonly Stat[] = ["min", "max", "mean", "median", "std", "p90", "p99"];

export type Unit = "ms" | "s" | "tokens" | "tokens/s" | "requests" | "requests/s" | "fraction" | "";

/** What a metric needs besides the requests: without it the metric is empty (null). */
export type Need = "goodput" | "gauges";

/** A row as written (summary.json keys, CSV columns, history columns): what `onlyIf` looks at. */
export type RowLike = Readonly<Record<string, unknown>>;

interface MetricCommon {
  /** A scalar's column; a distribution's column suffix (`mean_<name>`). */
  name: string;
  /** Short display label: "TTFT", "out tok/s". */
  label: string;
  unit: Unit;
  /** Decimals on the console and in `compare`. */
  digits: number;
  /** One of the seed's 43 columns (they come first, in this list's order). */
  seed?: boolean;
  needs?: readonly Need[];
  /** Whether a larger value is better: the metric is then compared across runs (`compare`, comparison page). */
  higherIsBetter?: boolean;
  /** Shown in the console, history comparison and report only for rows where this holds (e.g. the run thought). */
  onlyIf?: (row: RowLike) => boolean;
  /** Display order in the human views (console, `compare`, report tables); the CSV keeps this list's order. */
  rank?: number;
  /** Compared across `run --num-runs` runs with a confidence interval (repeats.json): a scalar's `true`, a distribution's statistics. */
  repeat?: true | readonly Stat[];
}

export interface ScalarMetric extends MetricCommon {
  kind: "scalar";
  /** integer: a count, written without decimals; text: a label, written as it is; else three decimals in the CSV. */
  format?: "integer" | "text";
  /** A label column (model size, tp, clients, mode, rate): not a measurement. */
  labelColumn?: boolean;
  value: (input: MetricInput) => number | string | null;
  /** Kept in the history (history.db). */
  history?: boolean;
  /** One of the key numbers: the report's summary table and comparison, `compare` (and kept in the history). */
  key?: boolean;
  /** In the one-line views too: the sweep's console table and point lines (a key number). */
  brief?: boolean;
  /** Printed on the console's summary ("more" line): for metrics with no line of their own there. */
  console?: boolean;
}

export interface DistributionMetric extends MetricCommon {
  kind: "distribution";
  /** Its columns in the CSV and summary.json: `<stat>_<name>`. */
  columns: readonly Stat[];
  /** The chosen percentiles (--metric-percentiles) get columns too: `p95_<name>`. */
  chosenPercentiles?: boolean;
  /** The distribution as `summarize` computed it (else it is described from `sample`). */
  of?: (summary: Summary) => Distribution | null;
  /** One number per request (an ITL-like array for many), over the completed requests or every sent one: the report's histograms, and the distribution itself without `of`. */
  sample?: { over: "completed" | "sent"; value: (request: RequestStats) => number | null | ArrayLike<number> };
  history?: readonly Stat[];
  key?: readonly Stat[];
  brief?: readonly Stat[];
  /** A row of the console's latency table, curves and a histogram in the report. */
  console?: boolean;
}

export type Metric = ScalarMetric | DistributionMetric;

export function scalar(metric: Omit<ScalarMetric, "kind">): ScalarMetric {
  return { kind: "scalar", ...metric };
}

export function distribution(metric: Omit<DistributionMetric, "kind">): DistributionMetric {
  return { kind: "distribution", ...metric };
}

const label = (name: string, labelText: string, value: (labels: PointLabels) => number | string | null, format: ScalarMetric["format"]) =>
  scalar({ name, label: labelText, unit: "", digits: 0, seed: name !== "request_rate", labelColumn: true, format, value: ({ labels }) => value(labels) });

const thought = (row: RowLike) => typeof row.total_reasoning_tokens === "number" && row.total_reasoning_tokens > 0;
const latency = (
  name: string, labelText: string, rank: number, of: (s: Summary) => Distribution | null, value: (r: RequestStats) => number | null | ArrayLike<number>, digits: number, seed = true,
) =>
  distribution({
    name, label: labelText, unit: "ms", digits, seed, rank, columns: STATS, chosenPercentiles: seed, of, sample: { over: "completed", value }, console: true, higherIsBetter: false,
    history: ["mean", "median", "p90", "p99"], key: ["mean", "p99"], brief: ["mean"],
  });
const gauge = (name: string, labelText: string, unit: Unit) =>
  (["mean", "max"] as const).map((stat) =>
    scalar({ name: `server_${stat}_${name}`, label: `server ${labelText} ${stat}`, unit, digits: 1, needs: ["gauges"], value: ({ gauges }) => gauges[name]?.[stat] ?? null }),
  );

/** Every metric, in the CSV's column order: the seed's 43 first, then llmbench's. */
export const METRICS: readonly Metric[] = [
  label("model_size(B)", "model size (B)", (l) => l.modelSize, "text"),
  label("tp", "TP", (l) => l.tp, "integer"),
  label("num_clients", "clients", (l) => l.numClients, "integer"),
  label("mode", "mode", (l) => l.mode, "text"),
  scalar({ name: "completed", label: "ok", unit: "requests", digits: 0, seed: true, format: "integer", rank: 1, history: true, key: true, brief: true, value: ({ summary }) => summary.completed }),
  scalar({ name: "success_rate", repeat: true, label: "success rate", unit: "fraction", digits: 3, seed: true, rank: 5, higherIsBetter: true, history: true, key: true, value: ({ summary }) => summary.success_rate }),
  scalar({ name: "qps", repeat: true, label: "qps", unit: "requests/s", digits: 2, seed: true, rank: 3, higherIsBetter: true, history: true, key: true, brief: true, value: ({ summary }) => summary.qps }),
  scalar({ name: "total_inlen", label: "input tokens", unit: "tokens", digits: 0, seed: true, format: "integer", value: ({ summary }) => summary.total_inlen }),
  scalar({ name: "total_outlen", label: "output tokens", unit: "tokens", digits: 0, seed: true, format: "integer", value: ({ summary }) => summary.total_outlen }),
  scalar({ name: "avg_inlen", label: "avg input", unit: "tokens", digits: 1, seed: true, value: ({ summary }) => summary.avg_inlen }),
  scalar({ name: "avg_outlen", label: "avg output", unit: "tokens", digits: 1, seed: true, value: ({ summary }) => summary.avg_outlen }),
  scalar({ name: "max_inlen", label: "max input", unit: "tokens", digits: 0, seed: true, format: "integer", value: ({ summary }) => summary.max_inlen }),
  scalar({ name: "max_outlen", label: "max output", unit: "tokens", digits: 0, seed: true, format: "integer", value: ({ summary }) => summary.max_outlen }),
  scalar({ name: "o_tps", repeat: true, label: "out tok/s", unit: "tokens/s", digits: 1, seed: true, rank: 4, higherIsBetter: true, history: true, key: true, brief: true, value: ({ summary }) => summary.o_tps }),
  scalar({ name: "io_tps", label: "in+out tok/s", unit: "tokens/s", digits: 1, seed: true, rank: 6, higherIsBetter: true, history: true, key: true, value: ({ summary }) => summary.io_tps }),
  { ...latency("ttft", "TTFT", 10, (s) => s.ttft, (r) => r.ttft, 1), brief: ["mean", "p99"], repeat: ["mean", "median", "p99"] },
  { ...latency("tpot", "TPOT", 20, (s) => s.tpot, (r) => r.tpot, 2), repeat: ["mean", "median", "p99"] },
  { ...latency("e2e", "E2E", 40, (s) => s.e2e, (r) => r.e2e, 0), history: ["mean", "p99"], repeat: ["mean", "p99"] },
  { ...latency("itl", "ITL", 30, (s) => s.itl, (r) => r.itl, 2), history: ["mean", "p99"], repeat: ["mean", "p99"] },
  // llmbench's columns
  scalar({ name: "failed", label: "failed", unit: "requests", digits: 0, format: "integer", rank: 2, history: true, key: true, brief: true, value: ({ summary }) => summary.failed }),
  scalar({ name: "duration_s", label: "duration", unit: "s", digits: 2, value: ({ summary }) => summary.duration_s }),
  scalar({ name: "tokens_per_event", label: "tokens per event", unit: "tokens", digits: 2, value: ({ summary }) => summary.tokens_per_event }),
  scalar({ name: "server_total_inlen", label: "server-counted input tokens", unit: "tokens", digits: 0, format: "integer", value: ({ summary }) => summary.server_total_inlen }),
  scalar({ name: "short_outputs", label: "short answers", unit: "requests", digits: 0, format: "integer", value: ({ summary }) => summary.short_outputs }),
  label("request_rate", "request rate", (l) => (l.requestRate === undefined || l.requestRate === null ? null : l.requestRate === Infinity ? "inf" : l.requestRate), undefined),
  scalar({ name: "mean_concurrency", label: "mean in flight", unit: "requests", digits: 2, rank: 50, key: true, value: ({ summary }) => summary.mean_concurrency }),
  scalar({ name: "max_concurrency", label: "max in flight", unit: "requests", digits: 0, format: "integer", value: ({ summary }) => summary.max_concurrency }),
  distribution({ name: "queue_wait", label: "queue wait", unit: "ms", digits: 1, columns: ["mean", "p99"], of: (s) => s.queue_wait }),
  scalar({ name: "goodput", label: "goodput req/s", unit: "requests/s", digits: 2, rank: 51, needs: ["goodput"], higherIsBetter: true, history: true, key: true, value: ({ goodput }) => goodput?.goodput ?? null }),
  scalar({ name: "goodput_ratio", label: "goodput ratio", unit: "fraction", digits: 3, needs: ["goodput"], value: ({ goodput }) => goodput?.goodput_ratio ?? null }),
  ...gauge("running", "running", "requests"),
  ...gauge("waiting", "waiting", "requests"),
  ...gauge("kv_cache_usage", "KV cache usage", "fraction"),
  // reasoning models: the first answer token after the thinking, the thinking's length and time
  { ...latency("ttft_content", "TTFT answer", 11, (s) => s.ttft_content, (r) => r.ttftContent, 1, false), onlyIf: thought },
  { ...latency("thinking_time", "thinking", 12, (s) => s.thinking, (r) => r.thinkingMs, 1, false), onlyIf: thought, history: ["mean", "p99"], key: ["mean"], brief: undefined },
  scalar({ name: "total_reasoning_tokens", label: "thinking tokens", unit: "tokens", digits: 0, history: true, value: ({ summary }) => summary.total_reasoning_tokens }),
  scalar({ name: "avg_reasoning_tokens", label: "avg thinking", unit: "tokens", digits: 1, history: true, onlyIf: thought, value: ({ summary }) => summary.avg_reasoning_tokens }),
  scalar({ name: "total_answer_tokens", label: "answer tokens", unit: "tokens", digits: 0, value: ({ summary }) => summary.total_answer_tokens }),
  scalar({ name: "avg_answer_tokens", label: "avg answer", unit: "tokens", digits: 1, history: true, onlyIf: thought, value: ({ summary }) => summary.avg_answer_tokens }),
  scalar({ name: "no_answer", label: "no answer", unit: "requests", digits: 0, history: true, onlyIf: thought, value: ({ summary }) => summary.no_answer }),
  // prefix caching: the server's hit rate over the point (its /metrics counters, else its gauge), and the cached tokens its usage reported
  scalar({ name: "prefix_cache_hit_rate", label: "prefix cache hits", unit: "fraction", digits: 3, higherIsBetter: true, key: true, repeat: true, value: ({ prefixCache, gauges }) => prefixCache?.hit_rate ?? gauges.prefix_cache_hit_rate?.mean ?? null }),
  scalar({ name: "total_cached_tokens", label: "cached prompt tokens", unit: "tokens", digits: 0, format: "integer", value: ({ summary }) => summary.total_cached_tokens }),
  // the point's input and output lengths as set, in a sweep's rows (its ISL × OSL axes, synthetic prompts, a fixed output length): the sweep writes them as the point's columns
  scalar({ name: "isl", label: "input len", unit: "tokens", digits: 0, format: "integer", value: () => null }),
  scalar({ name: "osl", label: "output len", unit: "tokens", digits: 0, format: "integer", value: () => null }),
  // (new metrics: add them above this line)
];

function needsMet(metric: Metric, input: MetricInput): boolean {
  for (const need of metric.needs ?? []) {
    if (need === "goodput" && input.goodput === null) return false;
    if (need === "gauges" && Object.keys(input.gauges).length === 0) return false;
  }
  return true;
}

export function scalarValue(metric: ScalarMetric, input: MetricInput): number | string | null {
  return needsMet(metric, input) ? metric.value(input) : null;
}

/** The metric's distribution: as summarize computed it, or described from its per-request samples. */
export function distributionValue(metric: DistributionMetric, input: MetricInput): Distribution | null {
  if (!needsMet(metric, input)) return null;
  if (metric.of) return metric.of(input.summary);
  return metric.sample ? describeSample(samplesOf(metric, input.requests), metric.chosenPercentiles ? input.percentiles : []) : null;
}

/** The metric's per-request samples (empty without `sample`); samples kept in single precision (RequestStats.itl) stay so. */
export function samplesOf(metric: DistributionMetric, requests: readonly RequestStats[]): Float64Array | Float32Array {
  const chunks = sampleChunks(metric, requests);
  let count = 0;
  for (const chunk of chunks) count += chunk.length;
  const values = chunks.every((chunk) => chunk instanceof Float32Array) ? new Float32Array(count) : new Float64Array(count);
  let at = 0;
  for (const chunk of chunks) {
    values.set(chunk, at);
    at += chunk.length;
  }
  return values;
}

/**
 * The metric's samples where they are: a request's own array for a per-token metric (ITL: millions
 * of samples, not copied), one array of the per-request values otherwise.
 */
export function sampleChunks(metric: DistributionMetric, requests: readonly RequestStats[]): Array<Float64Array | Float32Array> {
  if (!metric.sample) return [];
  const { over, value } = metric.sample;
  const chunks: Array<Float64Array | Float32Array> = [];
  const single: number[] = [];
  for (const request of requests) {
    if (over === "completed" ? !request.ok : !request.sent) continue;
    const sample = value(request);
    if (sample === null) continue;
    if (typeof sample === "number") single.push(sample);
    else chunks.push(sample instanceof Float32Array || sample instanceof Float64Array ? sample : Float64Array.from(sample));
  }
  if (single.length > 0) chunks.push(Float64Array.from(single));
  return chunks;
}

/** Human views show metrics by rank, then in the list's order. */
export function byRank<T extends Metric>(metrics: readonly T[]): T[] {
  return metrics
    .map((metric, index) => ({ metric, index }))
    .sort((a, b) => (a.metric.rank ?? 1000) - (b.metric.rank ?? 1000) || a.index - b.index)
    .map(({ metric }) => metric);
}

export function findMetric(name: string): Metric | undefined {
  return METRICS.find((metric) => metric.name === name);
}

/** The columns of the metrics a `pick` selects (a scalar's name; a distribution's chosen statistics, or all its columns for `true`), by rank. */
export interface PickedColumn {
  column: string;
  metric: Metric;
  stat: Stat | null;
}

export function pickedColumns(pick: (metric: Metric) => boolean | readonly Stat[] | undefined): PickedColumn[] {
  return byRank(METRICS).flatMap((metric): PickedColumn[] => {
    const picked = pick(metric);
    if (!picked) return [];
    if (metric.kind === "scalar") return [{ column: metric.name, metric, stat: null }];
    return (picked === true ? metric.columns : picked).map((stat) => ({ column: `${stat}_${metric.name}`, metric, stat }));
  });
}

/** The columns compared across repeated runs (`run --num-runs`), in display order. */
export function repeatedColumns(): string[] {
  return pickedColumns((metric) => metric.repeat).map(({ column }) => column);
}
