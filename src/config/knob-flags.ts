import { UsageError } from "../common/usage-error.ts";
import { registerSecret } from "../records/scrub.ts";
import { CSV_COLUMNS } from "../report/csv.ts";
import type { Threshold } from "../report/thresholds.ts";

/** The knobs shared by `run`, `sweep` and the config: percentiles, extra request fields and headers, thresholds. */

const list = (value: unknown): string[] =>
  [value]
    .flat()
    .filter((item) => item !== undefined && item !== null && item !== false)
    .flatMap((item) => String(item).split(","))
    .map((item) => item.trim());

/** `50,90,95,99,99.9` → the percentiles, each in (0, 100]. */
export function parsePercentiles(name: string, value: unknown): number[] {
  if (value === undefined || value === null) return [];
  const items = list(value);
  return [...new Set(items.map((item) => {
    const number = Number(item);
    if (item === "" || !Number.isFinite(number) || number <= 0 || number > 100) throw new UsageError(`${name}: expected percentiles in (0, 100] such as 50,90,99,99.9, got "${item}"`);
    return number;
  }))];
}

export const VLLM_METRICS = ["ttft", "tpot", "itl", "e2el"] as const;
export type VllmMetric = (typeof VLLM_METRICS)[number];

/** vLLM's --percentile-metrics: which metrics its result JSON gives statistics for (default ttft,tpot,itl). */
export function parsePercentileMetrics(name: string, value: unknown): VllmMetric[] {
  if (value === undefined || value === null) return ["ttft", "tpot", "itl"];
  return [...new Set(list(value).map((item) => {
    if (!(VLLM_METRICS as readonly string[]).includes(item)) throw new UsageError(`${name}: expected a list of ${VLLM_METRICS.join(", ")}, got "${item}"`);
    return item as VllmMetric;
  }))];
}

/**
 * Request fields that decide what is measured: the output length, streaming, the prompt, how many
 * answers. A body that sets them would measure something else than llmbench reports.
 */
const MEASURED_FIELDS = [
  "stream", "stream_options", "max_tokens", "max_completion_tokens", "min_tokens", "ignore_eos", "max_new_tokens", "min_new_tokens",
  "n_predict", "ignore_eos_token", "end_id", "n", "best_of", "prompt", "messages", "inputs", "text", "text_input", "echo", "return_tokens",
];

/** `--extra-body '{"chat_template_kwargs": {"enable_thinking": false}}'`: merged into every request body. */
export function parseExtraBody(name: string, value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value)) throw new UsageError(`${name}: give it once, with one JSON object`);
  let parsed: unknown = value;
  if (typeof value === "string") {
    try {
      parsed = JSON.parse(value);
    } catch (error) {
      throw new UsageError(`${name}: expected a JSON object such as '{"top_k": 20}', got ${value} (${(error as Error).message})`);
    }
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError(`${name}: expected a JSON object, got ${JSON.stringify(parsed)}`);
  checkMeasuredFields(name, parsed as Record<string, unknown>, "");
  return parsed as Record<string, unknown>;
}

function checkMeasuredFields(name: string, body: Record<string, unknown>, path: string): void {
  for (const [key, inner] of Object.entries(body)) {
    if (MEASURED_FIELDS.includes(key)) {
      throw new UsageError(`${name}: "${path}${key}" changes what is measured (output length, streaming, prompt or answer count are llmbench's to set: use --output-len and the dataset flags)`);
    }
    if (typeof inner === "object" && inner !== null && !Array.isArray(inner)) checkMeasuredFields(name, inner as Record<string, unknown>, `${path}${key}.`);
  }
}

const SECRET_HEADER = /key|token|secret|auth|password|cookie|session/i;

/** Header names llmbench sets itself. */
const OWN_HEADERS = ["content-type", "accept", "content-length", "host", "transfer-encoding", "connection"];

/** Repeatable `--header 'K: V'` → headers (names lower-cased). Authorization comes from --api-key-env, never a flag. */
export function parseHeaders(name: string, value: unknown): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const item of [value].flat()) {
    if (item === undefined || item === null) continue;
    const text = String(item);
    const colon = text.indexOf(":");
    const key = colon > 0 ? text.slice(0, colon).trim().toLowerCase() : "";
    if (!/^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(key)) throw new UsageError(`${name}: expected 'Name: value' such as 'X-Route: a', got "${text}"`);
    if (OWN_HEADERS.includes(key)) throw new UsageError(`${name}: ${key} is set by llmbench itself`);
    if (key === "authorization") throw new UsageError(`${name}: the API key goes in an environment variable named by --api-key-env, not on the command line`);
    headers[key] = text.slice(colon + 1).trim();
    // A gateway's key in a header (x-api-key, …) is scrubbed from every file and console line, as API keys are.
    if (SECRET_HEADER.test(key)) registerSecret(headers[key]);
  }
  return headers;
}

const OPERATORS = ["<=", ">=", "==", "<", ">"] as const;
const NON_NUMERIC = new Set(["model_size(B)", "mode", "num_clients", "tp", "isl", "osl"]);

/** Names a threshold may test: the numeric columns of summary.csv, and any percentile such as p95_ttft. */
export function isThresholdMetric(metric: string): boolean {
  return (CSV_COLUMNS.includes(metric) && !NON_NUMERIC.has(metric)) || /^p\d+(\.\d+)?_(ttft|tpot|e2e|itl)$/.test(metric);
}

/** Repeatable `--threshold 'p99_ttft<2000'` (k6's form: a summary column, an operator, a number). */
export function parseThresholds(name: string, value: unknown): Threshold[] {
  const thresholds: Threshold[] = [];
  for (const item of [value].flat()) {
    if (item === undefined || item === null) continue;
    const text = String(item).replace(/\s+/g, "");
    const operator = OPERATORS.find((op) => text.includes(op));
    const [metric, limitText] = operator ? text.split(operator) : [];
    const limit = Number(limitText);
    if (!operator || !metric || limitText === undefined || limitText === "" || !Number.isFinite(limit)) {
      throw new UsageError(`${name}: expected <metric><op><number> such as 'p99_ttft<2000' or 'success_rate>=0.99' (op: ${OPERATORS.join(" ")}), got "${String(item)}"`);
    }
    if (!isThresholdMetric(metric)) {
      throw new UsageError(`${name}: "${metric}" is not a summary metric; use a summary.csv column (mean_ttft, p99_itl, success_rate, qps, o_tps, goodput_ratio, …) or a percentile such as p95_ttft`);
    }
    thresholds.push({ expression: `${metric}${operator}${limitText}`, metric, operator, limit });
  }
  return thresholds;
}

/** The percentiles thresholds name (p95_ttft → 95), so that they are computed. */
export function percentilesOfThresholds(thresholds: readonly Threshold[]): number[] {
  return thresholds.flatMap((threshold) => {
    const match = /^p(\d+(?:\.\d+)?)_/.exec(threshold.metric);
    return match && !CSV_COLUMNS.includes(threshold.metric) ? [Number(match[1])] : [];
  });
}
