import { findMetric } from "../../metrics/registry.ts";
import { CSV_COLUMNS, formatCell } from "../csv.ts";
import { consoleDistributions, relevantFor } from "../metric-views.ts";
import { formatArgv } from "../../server/redact.ts";
import type { ReportPoint, SummaryObject } from "../run-data.ts";
import { escapeHtml } from "./page.ts";

export const STAT_NAMES = ["mean", "median", "p90", "p99", "min", "max", "std"] as const;

/** The registry's distributions that these summaries hold and that concern them (thinking only where the run thought), by rank. */
export function latencyMetrics(summaries: readonly (SummaryObject | null)[]): string[] {
  return consoleDistributions()
    .filter((metric) => relevantFor(metric, summaries) && summaries.some((s) => s && typeof s[`mean_${metric.name}`] === "number"))
    .map((metric) => metric.name);
}

/** A metric's display label (the registry's), e.g. "TTFT answer". */
export function metricTitle(name: string): string {
  return findMetric(name)?.label ?? name.toUpperCase().replace(/_/g, " ");
}

/** A metric's unit as an axis or row suffix ("ms"). */
export function metricUnit(name: string): string {
  return findMetric(name)?.unit ?? "ms";
}

/** A number as the CSV writes it (counts as integers, the rest with three decimals); "—" for none. */
export function valueCell(field: string, value: unknown, attributes: Record<string, string> = {}): string {
  const text = typeof value === "number" || typeof value === "string" ? formatCell(field, value) : "";
  const attrs = Object.entries({ field, ...attributes }).map(([k, v]) => ` data-${k}="${escapeHtml(v)}"`).join("");
  return `<td${attrs}>${text === "" ? "—" : escapeHtml(text)}</td>`;
}

/** Every scalar column of the summaries: the CSV's in its order, then any other number they hold. */
export function scalarColumns(summaries: readonly (SummaryObject | null)[]): string[] {
  const present = (column: string) => summaries.some((s) => s && (typeof s[column] === "number" || (typeof s[column] === "string" && s[column] !== "")));
  const csv = CSV_COLUMNS.filter(present);
  const known = new Set(CSV_COLUMNS);
  const others = new Set<string>();
  for (const summary of summaries) {
    if (!summary) continue;
    for (const [key, value] of Object.entries(summary)) if (!known.has(key) && typeof value === "number" && key !== "requests") others.add(key);
  }
  return [...csv, ...[...others].sort()];
}

export function table(headers: readonly string[], rows: readonly string[], className = ""): string {
  return `<div class="table-wrap"><table${className ? ` class="${className}"` : ""}><thead><tr>${headers.map((h) => `<th>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

/** Every scalar column, one row per point: the same numbers as summary.csv, to the same digits. */
export function allColumnsTable(points: readonly ReportPoint[]): string {
  const columns = scalarColumns(points.map((p) => p.summary));
  const rows = points
    .filter((p) => p.summary)
    .map((p) => `<tr><td>${escapeHtml(p.label)}</td>${columns.map((c) => valueCell(c, p.summary![c], { point: p.key })).join("")}</tr>`);
  return table(["point", ...columns], rows);
}

/** Mean, median, p90, p99, min, max, std of every latency of one point (and of its steady state). */
export function distributionTable(point: ReportPoint): string {
  const summary = point.summary!;
  const steady = summary.steady as SummaryObject | undefined;
  const metrics = latencyMetrics([summary]);
  const rows: string[] = [];
  for (const metric of metrics) {
    rows.push(`<tr><td>${escapeHtml(metricTitle(metric))} ${escapeHtml(metricUnit(metric))}</td>${STAT_NAMES.map((s) => valueCell(`${s}_${metric}`, summary[`${s}_${metric}`], { point: point.key })).join("")}</tr>`);
  }
  if (steady && typeof steady.completed === "number" && steady.completed > 0) {
    for (const metric of metrics) {
      rows.push(
        `<tr class="muted"><td>steady ${escapeHtml(metricTitle(metric))} ${escapeHtml(metricUnit(metric))}</td>${STAT_NAMES.map((s) => valueCell(`${s}_${metric}`, steady[`${s}_${metric}`], { point: point.key, source: "steady" })).join("")}</tr>`,
      );
    }
  }
  return table(["", ...STAT_NAMES], rows);
}

/** Failed requests by reason, most frequent first. */
export function failuresTable(point: ReportPoint): string {
  const failures = (point.summary?.failures ?? {}) as Record<string, number>;
  const entries = Object.entries(failures).sort((a, b) => b[1] - a[1]);
  if (entries.length === 0) return `<p class="muted">No request failed.</p>`;
  return table(
    ["reason", "requests"],
    entries.map(([reason, count]) => `<tr><td class="bad">${escapeHtml(reason)}</td><td data-failure="${escapeHtml(reason)}" data-point="${escapeHtml(point.key)}">${count}</td></tr>`),
  );
}

/** Nested identity objects as dotted keys; argv arrays as one shell line. */
export function flatten(value: unknown, prefix = "", into: [string, string][] = []): [string, string][] {
  if (Array.isArray(value) && value.every((item) => typeof item === "string")) {
    into.push([prefix, formatArgv(value as string[])]);
  } else if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) flatten(item, prefix ? `${prefix}.${key}` : key, into);
  } else if (value !== null && value !== undefined && value !== "") {
    into.push([prefix, typeof value === "string" ? value : JSON.stringify(value)]);
  }
  return into;
}

export function keyValueTable(entries: readonly [string, string][]): string {
  return `<div class="table-wrap"><table class="kv"><tbody>${entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join("")}</tbody></table></div>`;
}

/** Multi-turn points: the statistics of each turn, as summary.json's per_turn holds them. */
export function perTurnTable(point: ReportPoint): string {
  const turns = point.summary?.per_turn as Record<string, unknown>[] | undefined;
  if (!Array.isArray(turns) || turns.length === 0) return "";
  const columns = Object.keys(turns[0]!);
  const text = (column: string, value: unknown) => {
    if (typeof value !== "number") return value === null || value === undefined ? "—" : String(value);
    return column === "turn" || column === "requests" ? String(value) : formatCell(column, value);
  };
  const rows = turns.map((turn) => `<tr>${columns.map((c) => `<td>${escapeHtml(text(c, turn[c]))}</td>`).join("")}</tr>`);
  return `<h3>Per turn</h3>${table(columns, rows)}`;
}
