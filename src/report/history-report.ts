import pc from "picocolors";
import type { HistoryMetric, PointEntry, RunEntry, RunListing } from "../archive/history.ts";
import { comparedColumns } from "./metric-views.ts";
import { noiseVerdict, type PointIntervals } from "../metrics/noise.ts";
import { cell, formatTable } from "./text-table.ts";

/** `llmbench history`: one line per run, newest first. */
export function formatRunList(runs: readonly RunListing[]): string {
  const rows = [["#", "date", "backend", "model", "TP", "points", "best out tok/s", "status", "run"]];
  for (const run of runs) {
    rows.push([
      String(run.id),
      localTime(run.started_at),
      run.backend,
      run.model,
      String(run.tp),
      `${run.points_run}/${run.points_planned}`,
      cell(run.best_o_tps),
      run.status,
      run.name,
    ]);
  }
  const [header, ...body] = formatTable(rows, "rlllrrrll");
  return [pc.dim(header!), ...body].join("\n");
}

interface ComparedMetric {
  metric: HistoryMetric;
  label: string;
  digits: number;
  /** Whether a larger value is the better one. */
  higherIsBetter: boolean;
  /** Shown only for points where this holds (e.g. the run thought). */
  onlyIf?: (row: Readonly<Record<string, unknown>>) => boolean;
}

/** The main metrics `compare` shows for every point: the registry's compared key numbers. */
export const COMPARED_METRICS: readonly ComparedMetric[] = comparedColumns().map((c) => ({
  metric: c.column,
  label: c.metric.unit === "ms" ? `${c.label} ms` : c.label,
  digits: c.digits,
  higherIsBetter: c.metric.higherIsBetter!,
  onlyIf: c.metric.onlyIf,
}));

/** Whether a metric has something to say for these two points: a value in either, and its condition met by either. */
function shown(compared: ComparedMetric, a: PointEntry, b: PointEntry): boolean {
  if (compared.onlyIf && !compared.onlyIf(a) && !compared.onlyIf(b)) return false;
  return a[compared.metric] !== null && a[compared.metric] !== undefined || (b[compared.metric] !== null && b[compared.metric] !== undefined);
}

/** Relative change from a to b, in percent; null when either is missing or a is 0. */
export function percentChange(a: number | null, b: number | null): number | null {
  if (a === null || b === null || a === 0) return null;
  return ((b - a) / Math.abs(a)) * 100;
}

/** Each run's repeated points (--num-runs): their 95 % intervals per metric, by point key. */
export interface ComparedRepeats {
  a: ReadonlyMap<string, PointIntervals>;
  b: ReadonlyMap<string, PointIntervals>;
}

const NO_REPEATS: ComparedRepeats = { a: new Map(), b: new Map() };

/** A run's line: its number in the history (a result folder outside it has none), name and what ran. */
function runLine(side: string, run: RunEntry): string {
  return `  ${side}  ${run.id > 0 ? `#${run.id} ` : ""}${run.name}  (${run.backend}, ${run.model}, TP${run.tp}, ${run.status})`;
}

/**
 * `llmbench compare A B`: point by point (matched by client count or rate), B against A. Where both
 * points were repeated (--num-runs), a change whose 95 % intervals overlap is marked within noise.
 */
export function formatComparison(a: RunEntry, b: RunEntry, pointsA: readonly PointEntry[], pointsB: readonly PointEntry[], repeats: ComparedRepeats = NO_REPEATS): string {
  const lines = [pc.bold(`llmbench compare — B against A`), runLine("A", a), runLine("B", b), ""];
  const withNoise = [...repeats.a.keys()].some((key) => repeats.b.has(key));
  const byKeyB = new Map(pointsB.map((point) => [point.point, point]));
  const keys = [...pointsA.map((p) => p.point), ...pointsB.map((p) => p.point).filter((key) => !pointsA.some((p) => p.point === key))];
  const rows = [["point", "metric", "A", "B", "change", ...(withNoise ? ["95 % intervals"] : [])]];
  const changes = new Map<HistoryMetric, number[]>();
  for (const key of keys) {
    const pointA = pointsA.find((p) => p.point === key);
    const pointB = byKeyB.get(key);
    const measuredA = pointA && pointA.status !== "not run";
    const measuredB = pointB && pointB.status !== "not run";
    if (!measuredA || !measuredB) {
      rows.push([key, pc.dim(measuredA ? "not run in B" : measuredB ? "not run in A" : "run in neither"), "", "", ""]);
      continue;
    }
    COMPARED_METRICS.filter((compared) => shown(compared, pointA, pointB)).forEach((compared, index) => {
      const valueA = pointA[compared.metric] ?? null;
      const valueB = pointB[compared.metric] ?? null;
      const change = percentChange(valueA, valueB);
      if (change !== null) changes.set(compared.metric, [...(changes.get(compared.metric) ?? []), change]);
      const noise = noiseVerdict(repeats.a.get(key), repeats.b.get(key), compared.metric);
      const changeCell = noise === true ? pc.dim(formatChange(change, compared.higherIsBetter, false)) : formatChange(change, compared.higherIsBetter);
      const noiseCell = noise === null ? "" : noise ? pc.dim("overlap: within noise") : "apart: beyond noise";
      rows.push([index === 0 ? key : "", compared.label, cell(valueA, compared.digits), cell(valueB, compared.digits), changeCell, ...(withNoise ? [noiseCell] : [])]);
    });
  }
  const [header, ...body] = formatTable(rows, withNoise ? "llrrrl" : "llrrr");
  lines.push(pc.dim(header!), ...body);
  const verdict = COMPARED_METRICS.filter((c) => ["o_tps", "mean_ttft", "mean_tpot"].includes(c.metric))
    .map((c) => {
      const values = changes.get(c.metric);
      if (!values || values.length === 0) return null;
      const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
      return `${c.label.replace(/ ms$/, "")} ${formatChange(mean, c.higherIsBetter)}`;
    })
    .filter(Boolean);
  if (verdict.length > 0) lines.push("", `  on average over the points both ran: ${verdict.join(", ")}`);
  return lines.join("\n");
}

/**
 * `compare --json`: both runs, and per point (in A's order, then B's) each compared metric's values
 * and change in percent; where both points were repeated, also `within_noise` (their 95 % intervals overlap).
 */
export function comparisonData(a: RunEntry, b: RunEntry, pointsA: readonly PointEntry[], pointsB: readonly PointEntry[], repeats: ComparedRepeats = NO_REPEATS): Record<string, unknown> {
  const keys = [...new Set([...pointsA.map((p) => p.point), ...pointsB.map((p) => p.point)])];
  const measured = (point: PointEntry | undefined) => (point && point.status !== "not run" ? point : null);
  const points = keys.map((key) => {
    const pointA = measured(pointsA.find((p) => p.point === key));
    const pointB = measured(pointsB.find((p) => p.point === key));
    const metrics = Object.fromEntries(
      COMPARED_METRICS.map(({ metric }) => {
        const valueA = pointA?.[metric] ?? null;
        const valueB = pointB?.[metric] ?? null;
        const noise = pointA && pointB ? noiseVerdict(repeats.a.get(key), repeats.b.get(key), metric) : null;
        return [metric, { a: valueA, b: valueB, change_percent: percentChange(valueA, valueB), ...(noise === null ? {} : { within_noise: noise }) }];
      }),
    );
    return { point: key, status_a: pointA?.status ?? "not run", status_b: pointB?.status ?? "not run", metrics };
  });
  return { a, b, points };
}

/** "+4.2%" in green when it is an improvement, red when it is a regression (uncoloured when told it is noise). */
function formatChange(change: number | null, higherIsBetter: boolean, colour = true): string {
  if (change === null) return "—";
  const text = `${change >= 0 ? "+" : ""}${change.toFixed(1)}%`;
  if (!colour || Math.abs(change) < 0.05) return pc.dim(text);
  return change > 0 === higherIsBetter ? pc.green(text) : pc.red(text);
}

function localTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}
