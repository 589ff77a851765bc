/**
 * The registry's metrics as each human view shows them (console, `compare`, the HTML report) and
 * as the history keeps them: which columns, in which order, under which label and digits.
 */
import { byRank, METRICS, pickedColumns, type DistributionMetric, type Metric, type RowLike, type ScalarMetric, type Stat } from "../metrics/registry.ts";
import { columnNamed, type Column } from "./seed-columns.ts";

export interface ViewColumn extends Column {
  /** "TTFT mean", "out tok/s". */
  label: string;
  digits: number;
}

function viewColumns(pick: (metric: Metric) => boolean | readonly Stat[] | undefined): ViewColumn[] {
  return pickedColumns(pick).map((c) => ({ ...c, label: c.stat === null ? c.metric.label : `${c.metric.label} ${c.stat}`, digits: c.metric.digits }));
}

/** The key numbers: the report's summary and comparison tables, `compare`; always in the history. */
export function keyColumns(): ViewColumn[] {
  return viewColumns((m) => m.key);
}

/** The one-row views: the sweep's console table. */
export function briefColumns(): ViewColumn[] {
  return viewColumns((m) => m.brief);
}

/** Compared across runs: the key numbers that have a better direction. */
export function comparedColumns(): ViewColumn[] {
  return keyColumns().filter((column) => column.metric.higherIsBetter !== undefined);
}

/** The history's columns: every metric's history columns and key columns, in the registry's order. */
export function historyColumns(): string[] {
  const columns: string[] = [];
  for (const metric of METRICS) {
    for (const picked of [metric.history, metric.key]) {
      if (!picked) continue;
      const names = metric.kind === "scalar" ? [metric.name] : (picked === true ? metric.columns : (picked as readonly Stat[])).map((stat) => `${stat}_${metric.name}`);
      for (const name of names) if (!columns.includes(name)) columns.push(name);
    }
  }
  return columns;
}

/** The distributions of the console's latency table and the report's curves and histograms, by rank. */
export function consoleDistributions(): DistributionMetric[] {
  return byRank(METRICS.filter((m): m is DistributionMetric => m.kind === "distribution" && m.console === true));
}

/** Scalars printed on the console's "more" line (those without a line of their own). */
export function consoleScalars(): ScalarMetric[] {
  return byRank(METRICS.filter((m): m is ScalarMetric => m.kind === "scalar" && m.console === true));
}

/** Whether a metric is to be shown for these rows: its condition holds for one of them (the run thought, …). */
export function relevantFor(metric: Metric, rows: readonly (RowLike | null | undefined)[]): boolean {
  return !metric.onlyIf || rows.some((row) => row && metric.onlyIf!(row));
}

/** A view's columns that some row holds a number for, and whose metric is relevant to them. */
export function presentColumns<T extends Column>(columns: readonly T[], rows: readonly (RowLike | null | undefined)[]): T[] {
  return columns.filter(
    (c) => relevantFor(c.metric, rows) && rows.some((row) => row && typeof row[c.column] === "number" && Number.isFinite(row[c.column] as number)),
  );
}

/** A column's display label: the view's, or the registry's, or the name itself. */
export function columnLabel(name: string): string {
  const column = columnNamed(name);
  if (!column) return name;
  return column.stat === null ? column.metric.label : `${column.metric.label} ${column.stat}`;
}
