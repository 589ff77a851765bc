/**
 * The SLOs of a capacity search: "p99_ttft<=500,p99_tpot<=50" — a statistic of a latency (ms),
 * or success_rate / goodput_ratio (fractions), each with a bound. Pure: parsing and judging.
 */
import type { Distribution } from "../metrics/stats.ts";
import type { Summary } from "../metrics/summarize.ts";

export const SLO_LATENCIES = ["ttft", "tpot", "e2e", "itl"] as const;
export const SLO_STATISTICS = ["mean", "median", "p90", "p99", "max", "min"] as const;
type Latency = (typeof SLO_LATENCIES)[number];
type Statistic = (typeof SLO_STATISTICS)[number];

export interface SloTerm {
  /** "p99_ttft", "success_rate", "goodput_ratio". */
  metric: string;
  op: "<=" | ">=";
  bound: number;
}

/** Parses an SLO list; returns the problem in words (for a UsageError naming the flag or field) or the terms. */
export function parseSlo(text: string): SloTerm[] | string {
  const items = text.split(",").map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === "")) return `expected terms such as p99_ttft<=500,p99_tpot<=50, got "${text}"`;
  const terms: SloTerm[] = [];
  for (const item of items) {
    const match = /^([a-z0-9_]+)\s*(<=|>=)\s*([0-9]*\.?[0-9]+)$/.exec(item);
    if (!match) return `"${item}" is not a term such as p99_ttft<=500 (metric, <= or >=, a number)`;
    const [, metric, op, number] = match as unknown as [string, string, "<=" | ">=", string];
    const bound = Number(number);
    if (isRatio(metric)) {
      if (op !== ">=") return `"${item}": ${metric} is a floor, write ${metric}>=${number}`;
      if (bound > 1) return `"${item}": ${metric} is a fraction between 0 and 1`;
    } else if (latencyOf(metric)) {
      if (op !== "<=") return `"${item}": ${metric} is a ceiling in ms, write ${metric}<=${number}`;
    } else {
      return `"${item}": unknown metric ${metric}; expected <statistic>_<latency> (statistic ${SLO_STATISTICS.join("|")}, latency ${SLO_LATENCIES.join("|")}), success_rate or goodput_ratio`;
    }
    terms.push({ metric, op, bound });
  }
  return terms;
}

export function formatSlo(terms: readonly SloTerm[]): string {
  return terms.map((term) => `${term.metric}${term.op}${term.bound}`).join(",");
}

/** The value a term judges, from the point's summary (goodput ratio given apart: it depends on the SLO). */
export function sloValue(term: SloTerm, summary: Summary, goodputRatio: number | null): number | null {
  if (term.metric === "success_rate") return summary.success_rate;
  if (term.metric === "goodput_ratio") return goodputRatio;
  const parts = latencyOf(term.metric)!;
  const distribution: Distribution | null = summary[parts.latency];
  return distribution ? distribution[parts.statistic] : null;
}

/** Which terms the point missed, in words; a metric with no value (no completed request) misses. */
export function missedTerms(terms: readonly SloTerm[], summary: Summary, goodputRatio: number | null): string[] {
  const missed: string[] = [];
  for (const term of terms) {
    const value = sloValue(term, summary, goodputRatio);
    if (value === null || !Number.isFinite(value)) missed.push(`${term.metric} has no value (no completed request)`);
    else if (term.op === "<=" ? value > term.bound : value < term.bound) missed.push(`${term.metric} ${round(value)} ${term.op === "<=" ? ">" : "<"} ${term.bound}`);
  }
  return missed;
}

/** Per-request thresholds for goodput: the ceilings the terms put on TTFT, TPOT and E2E (the tightest of each). */
export function perRequestSlo(terms: readonly SloTerm[]): { ttft?: number; tpot?: number; e2e?: number } {
  const slo: { ttft?: number; tpot?: number; e2e?: number } = {};
  for (const term of terms) {
    const parts = latencyOf(term.metric);
    if (!parts || parts.latency === "itl") continue;
    slo[parts.latency] = Math.min(slo[parts.latency] ?? Infinity, term.bound);
  }
  return slo;
}

function isRatio(metric: string): boolean {
  return metric === "success_rate" || metric === "goodput_ratio";
}

function latencyOf(metric: string): { statistic: Statistic; latency: Latency } | null {
  const match = /^([a-z0-9]+)_([a-z]+)$/.exec(metric);
  if (!match) return null;
  const statistic = match[1] as Statistic;
  const latency = match[2] as Latency;
  return SLO_STATISTICS.includes(statistic) && SLO_LATENCIES.includes(latency) ? { statistic, latency } : null;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
