import pc from "picocolors";
import type { PointOutcome } from "../archive/sweep-summary.ts";
import type { SweepPoint } from "../config/bench-config.ts";
import { briefColumns, presentColumns } from "./metric-views.ts";
import { cell, formatTable } from "./text-table.ts";

/** "4 clients" / "2.5 req/s" / "1024 in, 128 out, 4 clients": how a point is named on the console. */
export function describePoint(point: SweepPoint): string {
  const load =
    point.kind === "clients" ? `${point.clients} client${point.clients === 1 ? "" : "s"}` : point.kind === "rate" ? `${point.rate} req/s` : `trace ${point.trace.split("/").pop()}${point.speed === 1 ? "" : ` ×${point.speed}`}`;
  const lengths = [point.inputLen === undefined ? null : `${point.inputLen} in`, point.outputLen === undefined ? null : `${point.outputLen} out`].filter(Boolean);
  return lengths.length > 0 ? `${lengths.join(", ")}, ${load}` : load;
}

/** One line when a point is over: how many requests, throughput, the main latencies. */
export function formatPointLine(outcome: PointOutcome): string {
  const s = outcome.summary;
  if (!s) return pc.yellow(`      not run: ${outcome.reason}`);
  const failed = s.failed > 0 ? pc.red(`${s.failed} failed`) : "0 failed";
  const line =
    `      ${s.requests} requests, ${s.completed} ok, ${failed}   qps ${cell(s.qps, 2)}   out ${cell(s.o_tps)} tok/s` +
    `   TTFT ${cell(s.ttft?.mean)} ms   TPOT ${cell(s.tpot?.mean, 2)} ms   ITL ${cell(s.itl?.mean, 2)} ms`;
  const reasons = formatFailureReasons(s.failures, "      ");
  const withReasons = reasons.length > 0 ? `${line}\n${reasons.join("\n")}` : line;
  return outcome.status === "cut short" ? `${withReasons}\n${pc.yellow(`      cut short: ${outcome.reason}`)}` : withReasons;
}

/** Failure reasons, most frequent first (ties by name), at most `limit`. */
export function topFailures(failures: Readonly<Record<string, number>>, limit = 3): { shown: [string, number][]; more: number } {
  const sorted = Object.entries(failures).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { shown: sorted.slice(0, limit), more: sorted.length - Math.min(limit, sorted.length) };
}

/** "failed × 3: HTTP 500 …" lines, the most frequent reasons first. */
export function formatFailureReasons(failures: Readonly<Record<string, number>>, indent = "  ", limit = 3): string[] {
  const { shown, more } = topFailures(failures, limit);
  const lines = shown.map(([reason, count]) => pc.red(`${indent}failed × ${count}: ${reason}`));
  if (more > 0) lines.push(pc.red(`${indent}… and ${more} other reason${more === 1 ? "" : "s"} (summary.json has them all)`));
  return lines;
}

/** The table printed at the end of a sweep: every point, run or not, with the registry's brief numbers. */
export function formatSweepTable(outcomes: readonly PointOutcome[]): string {
  const columns = presentColumns(briefColumns(), outcomes.map((o) => o.row));
  const rows = [["point", "status", ...columns.map((c) => c.label)]];
  for (const outcome of outcomes) {
    const row = outcome.summary ? outcome.row : null;
    rows.push([describePoint(outcome.point), outcome.status, ...columns.map((c) => cell(row?.[c.column], c.digits))]);
  }
  const [header, ...body] = formatTable(rows, "ll" + "r".repeat(columns.length));
  return [pc.dim(header!), ...body].join("\n") + pc.dim("\n  (times in ms)") + formatSweepFailures(outcomes);
}

/** The sweep's failed requests: how many of how many, the most frequent reasons over every point, then each point's (when several failed). */
export function formatSweepFailures(outcomes: readonly PointOutcome[]): string {
  const ran = outcomes.filter((o) => o.summary);
  const failedPoints = ran.filter((o) => o.summary!.failed > 0);
  if (failedPoints.length === 0) return "";
  const total: Record<string, number> = {};
  let failed = 0;
  let requests = 0;
  for (const outcome of ran) {
    requests += outcome.summary!.requests;
    failed += outcome.summary!.failed;
    for (const [reason, count] of Object.entries(outcome.summary!.failures)) total[reason] = (total[reason] ?? 0) + count;
  }
  const lines = [pc.red(`  failed requests: ${failed} of ${requests} (${((failed / Math.max(1, requests)) * 100).toFixed(1)} %), by reason over the sweep`), ...formatFailureReasons(total, "    ", 5)];
  if (failedPoints.length > 1) {
    lines.push(pc.red("  by point"));
    for (const outcome of failedPoints) lines.push(`    ${describePoint(outcome.point)}:`, ...formatFailureReasons(outcome.summary!.failures, "      "));
  }
  return `\n${lines.join("\n")}`;
}
