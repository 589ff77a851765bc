import { join } from "node:path";
import type { SweepPoint } from "../config/bench-config.ts";
import type { Summary } from "../metrics/summarize.ts";
import { CSV_COLUMNS, csvHeader, csvLine } from "../report/csv.ts";
import { isPercentileColumn, type Row } from "../report/seed-columns.ts";
import { writeFileAtomic } from "./result-files.ts";

/** What a sweep knows about one of its points once it is over (or was never started). */
export interface PointOutcome {
  /** 0-based position in the sweep. */
  index: number;
  point: SweepPoint;
  /** "clients=4": matches points across runs. */
  key: string;
  /** The point's folder inside the run folder. */
  folder: string;
  /** done: ran to its end; cut short: stopped early (Ctrl-C, the server died), what it measured is kept; not run; pending: not yet. */
  status: "done" | "cut short" | "not run" | "pending";
  reason: string | null;
  /** Its CSV row; null when it did not run. */
  row: Row | null;
  summary: Summary | null;
}

/** The sweep CSV: the seed's columns, llmbench's, then whether the point ran to its end. */
export const SWEEP_CSV_COLUMNS: readonly string[] = [...CSV_COLUMNS, "point_status"];

/**
 * Rewrites the run's summary.csv (one row per point that ran, in sweep order) and summary.json
 * (every point, with its status and the reason it was cut short or not run). Atomic, so a
 * reader (or a crash) never sees half of one.
 */
export function writeSweepSummary(dir: string, context: Record<string, unknown>, outcomes: readonly PointOutcome[]): void {
  const ran = outcomes.filter((outcome) => outcome.row !== null);
  const chosen = ran.length > 0 ? Object.keys(ran[0]!.row!).filter(isPercentileColumn) : []; // --metric-percentiles, after the fixed columns
  const columns = [...SWEEP_CSV_COLUMNS, ...chosen];
  const rows = ran.map((outcome) => csvLine({ ...outcome.row!, point_status: outcome.status === "done" ? "done" : `${outcome.status}: ${outcome.reason}` }, columns));
  writeFileAtomic(join(dir, "summary.csv"), csvHeader(columns) + rows.join(""));
  const points = outcomes.map((outcome) => ({
    point: outcome.key,
    folder: outcome.folder,
    status: outcome.status,
    reason: outcome.reason,
    ...(outcome.row ?? {}),
    ...(outcome.summary ? { requests: outcome.summary.requests, failures: outcome.summary.failures } : {}),
  }));
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify({ ...context, points }, null, 2) + "\n");
}
