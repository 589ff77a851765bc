import pc from "picocolors";
import type { Summary } from "../metrics/summarize.ts";
import { formatFailureReasons } from "./sweep-console.ts";
import type { Distribution } from "../metrics/stats.ts";
import type { Goodput } from "../metrics/goodput.ts";
import type { TurnStats } from "../metrics/per-turn.ts";
import type { GaugeStats } from "../metrics/server-gauges.ts";
import type { DistributionMetric } from "../metrics/registry.ts";
import { consoleDistributions, consoleScalars } from "./metric-views.ts";
import type { Row } from "./seed-columns.ts";
import type { PrefixCacheDelta } from "../metrics/prefix-cache.ts";

const number = (value: number, digits = 2) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const integer = (value: number) => value.toLocaleString("en-US");
const optional = (value: number | null) => (value === null ? "—" : number(value));

export interface PointReport {
  summary: Summary;
  /** The point's row: the metrics computed from the requests (those with no `of` in the registry) are read from it. */
  row?: Row;
  steady?: Summary;
  perTurn?: TurnStats[];
  goodput?: Goodput | null;
  gauges?: { status: string; gauges: Record<string, GaugeStats>; prefix_cache?: PrefixCacheDelta };
}

/** Right-aligned columns after a left-aligned first one. */
function table(rows: string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((r) => (r[column] ?? "").length)));
  return rows.map((cells, index) => {
    const text = cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join("  ");
    return `  ${index === 0 ? pc.dim(text) : text}`;
  });
}

/** The readable summary printed at the end of a point. */
export function formatSummary(title: string, report: PointReport): string {
  const { summary } = report;
  const lines: string[] = [pc.bold(title)];
  const rate = (summary.success_rate * 100).toFixed(1);
  const failed = summary.failed > 0 ? pc.red(`${summary.failed} failed`) : "0 failed";
  lines.push(`  requests   ${summary.requests} sent, ${summary.completed} completed, ${failed} (success ${rate} %)`);
  lines.push(
    `  duration   ${number(summary.duration_s)} s   qps ${number(summary.qps)}   output ${number(summary.o_tps, 1)} tok/s` +
      `   input+output ${number(summary.io_tps, 1)} tok/s`,
  );
  lines.push(
    `  tokens     in ${integer(summary.total_inlen)} (avg ${number(summary.avg_inlen, 1)}, max ${summary.max_inlen})` +
      `   out ${integer(summary.total_outlen)} (avg ${number(summary.avg_outlen, 1)}, max ${summary.max_outlen})` +
      (summary.tokens_per_event > 1.001 ? pc.yellow(`   ${number(summary.tokens_per_event)} tokens per event: ITL is per chunk share`) : ""),
  );
  const thought = summary.total_reasoning_tokens > 0;
  if (thought) {
    const noAnswer = summary.no_answer > 0 ? pc.yellow(`   ${summary.no_answer} answers had no token after the thinking`) : "";
    lines.push(
      `  thinking   ${integer(summary.total_reasoning_tokens)} tokens (avg ${number(summary.avg_reasoning_tokens, 1)})` +
        `   answer ${integer(summary.total_answer_tokens)} tokens (avg ${number(summary.avg_answer_tokens, 1)})` +
        `: TTFT is the first token of either, TTFT answer the first after the thinking${noAnswer}`,
    );
  }
  if (summary.server_total_inlen !== null) lines.push(`  server-counted input tokens ${integer(summary.server_total_inlen)}`);
  if (summary.short_outputs > 0) lines.push(pc.yellow(`  ${summary.short_outputs} answers came back shorter than asked: the server did not honour the output length`));
  let concurrency = `  in flight  mean ${number(summary.mean_concurrency)}, max ${summary.max_concurrency}`;
  if (summary.queue_wait && summary.queue_wait.max > 1) {
    concurrency += `   waited in client: mean ${number(summary.queue_wait.mean)} ms, p99 ${number(summary.queue_wait.p99)} ms`;
  }
  lines.push(concurrency);
  const gauges = report.gauges?.gauges ?? {};
  if (Object.keys(gauges).length > 0) {
    const part = (name: string, label: string, scale = 1, unit = "") =>
      gauges[name] ? [`${label} mean ${number(gauges[name]!.mean * scale, 1)}${unit}, max ${number(gauges[name]!.max * scale, 1)}${unit}`] : [];
    const parts = [...part("running", "running"), ...part("waiting", "waiting"), ...part("kv_cache_usage", "KV cache", 100, " %")];
    if (parts.length > 0) lines.push(`  server     ${parts.join("; ")} (its /metrics, ${Math.max(...Object.values(gauges).map((g) => g.samples))} samples)`);
  }
  const cacheLine = prefixCacheLine(report.gauges?.prefix_cache ?? null, gauges.prefix_cache_hit_rate ?? null, summary.total_cached_tokens);
  if (cacheLine !== null) lines.push(cacheLine);
  if (report.goodput) {
    lines.push(`  goodput    ${number(report.goodput.goodput)} req/s (${(report.goodput.goodput_ratio * 100).toFixed(1)} % of requests met every SLO)`);
  }

  // The registry's distributions, one row each; --metric-percentiles beyond the median, p90 and p99 get columns of their own, after p99.
  const distributions = consoleDistributions()
    .filter((metric) => !metric.onlyIf || metric.onlyIf(summaryFacts(summary)))
    .map((metric) => ({ metric, value: consoleDistribution(metric, summary, report.row) }));
  const chosen = [...new Set(distributions.filter((d) => d.metric.chosenPercentiles).flatMap((d) => Object.keys(d.value?.percentiles ?? {})))]
    .filter((label) => !["50", "90", "99"].includes(label))
    .sort((a, b) => Number(a) - Number(b));
  const rows: string[][] = [["", "mean", "median", "p90", "p99", ...chosen.map((label) => `p${label}`), "min", "max", "std"]];
  for (const { metric, value: d } of distributions) {
    const name = `${metric.label} ${metric.unit}`.trim();
    rows.push(
      d
        ? [name, ...[d.mean, d.median, d.p90, d.p99, ...chosen.map((label) => d.percentiles?.[label] ?? NaN), d.min, d.max, d.std].map((v) => (Number.isNaN(v) ? "—" : number(v)))]
        : [name, "—", ...rows[0]!.slice(2).map(() => "")],
    );
  }
  lines.push(...table(rows));
  const more = report.row ? consoleScalars().filter((m) => (!m.onlyIf || m.onlyIf(report.row!)) && report.row![m.name] !== null && report.row![m.name] !== undefined) : [];
  if (more.length > 0) {
    lines.push(`  more       ${more.map((m) => `${m.label} ${typeof report.row![m.name] === "number" ? number(report.row![m.name] as number, m.digits) : report.row![m.name]}${m.unit && m.unit !== "fraction" ? ` ${m.unit}` : ""}`).join("; ")}`);
  }

  const steady = report.steady;
  if (steady && steady.completed > 0 && steady.completed < summary.completed) {
    lines.push(
      pc.dim(`  steady state (${steady.completed} requests sent after the ramp-up, before the stop): `) +
        `qps ${number(steady.qps)}, mean TTFT ${optional(steady.ttft?.mean ?? null)} ms, mean TPOT ${optional(steady.tpot?.mean ?? null)} ms` +
        (thought ? `, mean TTFT answer ${optional(steady.ttft_content?.mean ?? null)} ms` : ""),
    );
  }
  if (report.perTurn && report.perTurn.length > 1) {
    const turnRows: string[][] = [["turn", "requests", "mean TTFT", "p99 TTFT", "mean TPOT", "avg in", "avg out", ...(thought ? ["mean TTFT answer", "avg thinking"] : [])]];
    for (const t of report.perTurn) {
      turnRows.push([
        String(t.turn), String(t.requests), optional(t.mean_ttft), optional(t.p99_ttft), optional(t.mean_tpot), number(t.avg_inlen, 1), number(t.avg_outlen, 1),
        ...(thought ? [optional(t.mean_ttft_content), number(t.avg_reasoning_tokens, 1)] : []),
      ]);
    }
    lines.push(...table(turnRows));
    if (thought) lines.push(pc.dim("  each turn's history carries the earlier answers' content only, not their thinking (as chat templates do)"));
  }
  if (summary.failed > 0) {
    lines.push(pc.red(`  failures   ${summary.failed} of ${summary.requests} requests (${((summary.failed / summary.requests) * 100).toFixed(1)} %), most frequent reasons:`));
    lines.push(...formatFailureReasons(summary.failures, "    ", 5));
  }
  return lines.join("\n");
}

/** What a metric's display condition looks at, for a summary (whose keys are a row's). */
function summaryFacts(summary: Summary): Record<string, unknown> {
  return summary as unknown as Record<string, unknown>;
}

/** The distribution as summarize computed it, or as the row holds it (the statistics it has columns for). */
function consoleDistribution(metric: DistributionMetric, summary: Summary, row: Row | undefined): Distribution | null {
  if (metric.of) return metric.of(summary);
  if (!row) return null;
  const stat = (name: string) => (typeof row[`${name}_${metric.name}`] === "number" ? (row[`${name}_${metric.name}`] as number) : NaN);
  if (Number.isNaN(stat("mean")) && Number.isNaN(stat("p99"))) return null;
  return { mean: stat("mean"), median: stat("median"), p90: stat("p90"), p99: stat("p99"), min: stat("min"), max: stat("max"), std: stat("std") };
}

/** The prefix cache's line: the server's counters over the point (else its gauge), and what its usage reported per request. */
function prefixCacheLine(delta: PrefixCacheDelta | null, gauge: GaugeStats | null, usageCached: number | null): string | null {
  const parts: string[] = [];
  if (delta !== null && delta.hit_rate !== null) {
    parts.push(`hit rate ${(delta.hit_rate * 100).toFixed(1)} % (${integer(delta.hit_tokens)} of ${integer(delta.queried_tokens)} prompt tokens, its /metrics counters)`);
  } else if (gauge !== null) {
    parts.push(`hit rate mean ${(gauge.mean * 100).toFixed(1)} % (its /metrics gauge)`);
  }
  if (usageCached !== null && (usageCached > 0 || parts.length > 0)) parts.push(`${integer(usageCached)} cached prompt tokens in its usage`);
  return parts.length === 0 ? null : `  prefix     ${parts.join("; ")}`;
}
