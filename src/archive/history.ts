import { Database } from "bun:sqlite";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { scrub } from "../records/scrub.ts";
import { historyColumns } from "../report/metric-views.ts";
import type { Row } from "../report/seed-columns.ts";
import type { PointOutcome } from "./sweep-summary.ts";

/** The point metrics kept in the history (the registry's history and key columns): enough to list runs and compare them point by point. */
export const HISTORY_METRICS: readonly string[] = historyColumns();
export type HistoryMetric = string;

export interface RunEntry {
  id: number;
  name: string;
  dir: string;
  started_at: string;
  ended_at: string | null;
  status: string;
  exit_code: number | null;
  reason: string | null;
  backend: string;
  model: string;
  model_size: number | null;
  tp: number;
  mode: string;
  dataset: string;
  points_planned: number;
  llmbench_version: string;
  host: string;
  /** The llmbench process running the sweep, and its start time (clock ticks since boot), so a reused pid is not mistaken for it. */
  pid: number | null;
  pid_start: string | null;
}

export interface RunListing extends RunEntry {
  /** Points that ran (to their end or cut short). */
  points_run: number;
  best_o_tps: number | null;
}

export type PointEntry = {
  run_id: number;
  idx: number;
  point: string;
  num_clients: number | null;
  request_rate: number | null;
  status: string;
  reason: string | null;
} & Record<HistoryMetric, number | null>;

/** One point as the history keeps it: a sweep's point, or `llmbench run`'s one. */
export interface HistoryPoint {
  index: number;
  key: string;
  numClients: number | null;
  requestRate: number | null;
  status: string;
  reason: string | null;
  row: Row | null;
}

/** A column name as an SQL identifier. */
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  dir TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  status TEXT NOT NULL,
  exit_code INTEGER,
  reason TEXT,
  backend TEXT NOT NULL,
  model TEXT NOT NULL,
  model_size REAL,
  tp INTEGER NOT NULL,
  mode TEXT NOT NULL,
  dataset TEXT NOT NULL,
  points_planned INTEGER NOT NULL,
  llmbench_version TEXT NOT NULL,
  host TEXT NOT NULL,
  pid INTEGER,
  pid_start TEXT
);
CREATE TABLE IF NOT EXISTS points (
  run_id INTEGER NOT NULL REFERENCES runs(id),
  idx INTEGER NOT NULL,
  point TEXT NOT NULL,
  num_clients INTEGER,
  request_rate REAL,
  status TEXT NOT NULL,
  reason TEXT,
  ${HISTORY_METRICS.map((metric) => `${quoted(metric)} REAL`).join(",\n  ")},
  PRIMARY KEY (run_id, idx)
);
`;

/** Every run and point, in `<output>/history.db` (bun:sqlite). */
export class RunHistory {
  private constructor(private readonly db: Database) {}

  static path(outputDir: string): string {
    return join(outputDir, "history.db");
  }

  /** Opens (creating when `create`) the history of an output folder; null when there is none and `create` is false. */
  static open(outputDir: string, options: { create: boolean }): RunHistory | null {
    const path = RunHistory.path(outputDir);
    if (!options.create && !existsSync(path)) return null;
    mkdirSync(outputDir, { recursive: true });
    const db = new Database(path, { create: options.create });
    db.exec("PRAGMA busy_timeout = 5000");
    db.exec(SCHEMA);
    // Histories written before runs recorded their process.
    const columns = new Set((db.query("PRAGMA table_info(runs)").all() as Array<{ name: string }>).map((column) => column.name));
    if (!columns.has("pid")) db.exec("ALTER TABLE runs ADD COLUMN pid INTEGER");
    if (!columns.has("pid_start")) db.exec("ALTER TABLE runs ADD COLUMN pid_start TEXT");
    // Histories written before a metric was kept there: its column, empty for their points.
    const pointColumns = new Set((db.query("PRAGMA table_info(points)").all() as Array<{ name: string }>).map((column) => column.name));
    try {
      for (const metric of HISTORY_METRICS) if (!pointColumns.has(metric)) db.exec(`ALTER TABLE points ADD COLUMN ${quoted(metric)} REAL`);
    } catch {
      // a history this user may read but not write: listed and compared as it is (its points lack the newer metrics)
    }
    return new RunHistory(db);
  }

  beginRun(run: Omit<RunEntry, "id" | "ended_at" | "exit_code" | "reason" | "status">): number {
    const result = this.db
      .query(
        `INSERT INTO runs (name, dir, started_at, status, backend, model, model_size, tp, mode, dataset, points_planned, llmbench_version, host, pid, pid_start)
         VALUES ($name, $dir, $started_at, 'running', $backend, $model, $model_size, $tp, $mode, $dataset, $points_planned, $llmbench_version, $host, $pid, $pid_start)`,
      )
      .run(prefixed(run));
    return Number(result.lastInsertRowid);
  }

  recordPoint(runId: number, outcome: PointOutcome): void {
    this.recordPointRow(runId, {
      index: outcome.index,
      key: outcome.key,
      numClients: outcome.point.kind === "clients" ? outcome.point.clients : null,
      requestRate: outcome.point.kind === "rate" ? outcome.point.rate : null,
      status: outcome.status,
      reason: outcome.reason,
      row: outcome.row,
    });
  }

  recordPointRow(runId: number, point: HistoryPoint): void {
    const parameter = (index: number) => `$m${index}`;
    const metrics = Object.fromEntries(
      HISTORY_METRICS.map((metric, index) => {
        const value = point.row?.[metric];
        return [parameter(index).slice(1), typeof value === "number" && Number.isFinite(value) ? value : null];
      }),
    );
    this.db
      .query(
        `INSERT OR REPLACE INTO points (run_id, idx, point, num_clients, request_rate, status, reason, ${HISTORY_METRICS.map(quoted).join(", ")})
         VALUES ($run_id, $idx, $point, $num_clients, $request_rate, $status, $reason, ${HISTORY_METRICS.map((_, index) => parameter(index)).join(", ")})`,
      )
      .run(
        prefixed({
          run_id: runId,
          idx: point.index,
          point: point.key,
          num_clients: point.numClients,
          request_rate: point.requestRate,
          status: point.status,
          reason: point.reason,
          ...metrics,
        }),
      );
  }

  /**
   * A run recorded whole once it is over (`llmbench run`): its entry and its one point. A run
   * written again into the same folder replaces the entry of the one it overwrote.
   */
  recordFinishedRun(
    run: Omit<RunEntry, "id" | "status" | "ended_at" | "exit_code" | "reason">,
    end: { ended_at: string; status: string; exit_code: number; reason: string | null },
    point: HistoryPoint,
  ): number {
    return this.db.transaction(() => {
      const previous = this.db.query(`SELECT id FROM runs WHERE name = $name`).get({ $name: scrub(run.name) }) as { id: number } | null;
      if (previous) {
        this.db.query(`DELETE FROM points WHERE run_id = $id`).run({ $id: previous.id });
        this.db.query(`DELETE FROM runs WHERE id = $id`).run({ $id: previous.id });
      }
      const id = this.beginRun(run);
      this.recordPointRow(id, point);
      this.finishRun(id, end);
      return id;
    })();
  }

  finishRun(runId: number, end: { ended_at: string; status: string; exit_code: number; reason: string | null }): void {
    this.db
      .query(`UPDATE runs SET ended_at = $ended_at, status = $status, exit_code = $exit_code, reason = $reason WHERE id = $id`)
      .run(prefixed({ ...end, id: runId }));
  }

  /**
   * Runs still marked running whose llmbench process is gone (SIGKILL, a crash, a power cut) are
   * marked aborted, here and in their run.json. Only runs of this host can be checked.
   */
  markAbandonedRuns(isRunAlive: (run: RunEntry) => boolean, host: string, onAborted: (run: RunEntry, reason: string) => void): void {
    const running = this.db.query(`SELECT * FROM runs WHERE status = 'running' AND host = $host`).all({ $host: host }) as RunEntry[];
    for (const run of running) {
      if (run.pid === null || isRunAlive(run)) continue;
      const reason = `llmbench (pid ${run.pid}) ended without finishing the run (killed or crashed)`;
      this.db.query(`UPDATE runs SET status = 'aborted', reason = $reason WHERE id = $id AND status = 'running'`).run({ $reason: reason, $id: run.id });
      onAborted(run, reason);
    }
  }

  /** The newest runs first. */
  listRuns(limit: number): RunListing[] {
    return this.db
      .query(
        `SELECT runs.*,
                (SELECT COUNT(*) FROM points WHERE points.run_id = runs.id AND points.status != 'not run') AS points_run,
                (SELECT MAX(o_tps) FROM points WHERE points.run_id = runs.id) AS best_o_tps
         FROM runs ORDER BY runs.started_at DESC, runs.id DESC LIMIT $limit`,
      )
      .all({ $limit: limit }) as RunListing[];
  }

  /**
   * A run by its number in `llmbench history`, its name (`2025-01-31/142501_vllm_llama2-7b`, or
   * just the part after the date when that is unique), or "latest".
   */
  findRun(reference: string): RunEntry | null {
    const trimmed = reference.replace(/\/+$/, "");
    if (trimmed === "latest") return this.db.query(`SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT 1`).get() as RunEntry | null;
    if (/^\d+$/.test(trimmed)) return this.db.query(`SELECT * FROM runs WHERE id = $id`).get({ $id: Number(trimmed) }) as RunEntry | null;
    const exact = this.db.query(`SELECT * FROM runs WHERE name = $name OR dir = $name`).get({ $name: trimmed }) as RunEntry | null;
    if (exact) return exact;
    const matches = this.db.query(`SELECT * FROM runs WHERE name LIKE $suffix`).all({ $suffix: `%/${trimmed}` }) as RunEntry[];
    return matches.length === 1 ? matches[0]! : null;
  }

  pointsOf(runId: number): PointEntry[] {
    return this.db.query(`SELECT * FROM points WHERE run_id = $id ORDER BY idx`).all({ $id: runId }) as PointEntry[];
  }

  close(): void {
    this.db.close();
  }
}

/** bun:sqlite binds `$name` parameters from keys that carry the `$`; texts (reasons) are scrubbed of secrets. */
function prefixed(values: Record<string, unknown>): Record<string, string | number | null> {
  return Object.fromEntries(
    Object.entries(values).map(([key, value]) => [`$${key}`, (typeof value === "string" ? scrub(value) : (value ?? null)) as string | number | null]),
  );
}
