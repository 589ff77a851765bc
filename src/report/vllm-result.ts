import type { Goodput } from "../metrics/goodput.ts";
import type { RequestStats } from "../metrics/request-stats.ts";
import { percentileLabel, type Distribution } from "../metrics/stats.ts";
import type { Summary } from "../metrics/summarize.ts";

/**
 * `--save-result`: the point's finished summary and records reshaped into the JSON that
 * `vllm bench serve --save-result` writes, under vLLM's keys, so dashboards built on it read
 * ours. Nothing is computed here: every statistic comes from the summary (the same numbers as
 * summary.json), per-request lists from the records, times converted where vLLM uses seconds.
 */

export type VllmMetricName = "ttft" | "tpot" | "itl" | "e2el";

export interface VllmResultInput {
  summary: Summary;
  requests: readonly RequestStats[];
  goodput: Goodput | null;
  backend: string;
  model: string;
  tokenizer: string;
  numPrompts: number | null;
  /** Requests per second (Infinity: all at once); null for closed-loop clients. */
  requestRate: number | null;
  burstiness: number;
  maxConcurrency: number | null;
  metrics: readonly VllmMetricName[];
  percentiles: readonly number[];
  detailed: boolean;
  date: Date;
}

const OUR_METRIC: Record<VllmMetricName, "ttft" | "tpot" | "itl" | "e2e"> = { ttft: "ttft", tpot: "tpot", itl: "itl", e2el: "e2e" };

/** vLLM's `%Y%m%d-%H%M%S`, local time. */
export function vllmDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** A percentile of a distribution by its label: 50 is the median, 90 and 99 always there, the others where chosen. */
function percentileOf(distribution: Distribution, percent: number): number | null {
  const chosen = distribution.percentiles?.[percentileLabel(percent)];
  if (chosen !== undefined) return chosen;
  if (percent === 50) return distribution.median;
  if (percent === 90) return distribution.p90;
  if (percent === 99) return distribution.p99;
  return null;
}

const rateValue = (rate: number | null) => (rate === null ? null : rate === Infinity ? "inf" : rate);

export function vllmResult(input: VllmResultInput): Record<string, unknown> {
  const { summary } = input;
  const result: Record<string, unknown> = {
    date: vllmDate(input.date),
    backend: input.backend,
    model_id: input.model,
    tokenizer_id: input.tokenizer,
    num_prompts: input.numPrompts,
    request_rate: rateValue(input.requestRate),
    burstiness: input.burstiness,
    max_concurrency: input.maxConcurrency,
    duration: summary.duration_s,
    completed: summary.completed,
    failed: summary.failed,
    total_input_tokens: summary.total_inlen,
    total_output_tokens: summary.total_outlen,
    request_throughput: summary.qps,
    request_goodput: input.goodput?.goodput ?? null,
    output_throughput: summary.o_tps,
    total_token_throughput: summary.io_tps,
  };
  for (const metric of input.metrics) {
    const distribution = summary[OUR_METRIC[metric]];
    result[`mean_${metric}_ms`] = distribution?.mean ?? 0;
    result[`median_${metric}_ms`] = distribution?.median ?? 0;
    result[`std_${metric}_ms`] = distribution?.std ?? 0;
    for (const percent of input.percentiles) result[`p${percentileLabel(percent)}_${metric}_ms`] = distribution ? percentileOf(distribution, percent) : 0;
  }
  if (input.detailed) {
    const sent = input.requests.filter((request) => request.sent);
    result.input_lens = sent.map((request) => request.inTokens);
    result.output_lens = sent.map((request) => (request.ok ? request.outTokens : 0));
    result.ttfts = sent.map((request) => (request.ttft ?? 0) / 1000);
    result.itls = sent.map((request) => Array.from(request.itl, (ms) => ms / 1000));
    result.errors = sent.map((request) => (request.ok ? "" : (request.error ?? "")));
  }
  return result;
}

/** vLLM's file name: `{backend}-{rate}qps[-concurrency{k}]-{model}-{date}.json`; closed-loop points say `{n}clients`. */
export function vllmResultFilename(input: Pick<VllmResultInput, "backend" | "model" | "requestRate" | "maxConcurrency" | "date">, clients: number): string {
  const load = input.requestRate === null ? `${clients}clients` : `${input.requestRate === Infinity ? "inf" : input.requestRate.toFixed(1)}qps`;
  const concurrency = input.maxConcurrency === null ? "" : `-concurrency${input.maxConcurrency}`;
  const model = (input.model.split("/").pop() || "model").replace(/[^A-Za-z0-9._-]+/g, "_");
  return `${input.backend}-${load}${concurrency}-${model}-${vllmDate(input.date)}.json`;
}
