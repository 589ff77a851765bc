/** A `run` result folder (summary.json of one point, not in the history) as `compare` sees a run: one point. */
import { existsSync, readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { HISTORY_METRICS, type PointEntry, type RunEntry } from "./history.ts";

/** The point key of a run's summary: "clients=N", or "rate=R" in rate mode, as sweeps name points. */
export function pointKeyOf(summary: Record<string, unknown>): string {
  const rate = summary.request_rate;
  return rate === null || rate === undefined || rate === "" ? `clients=${summary.num_clients}` : `rate=${rate}`;
}

/** The run and its one point, or null when `path` is not a folder with a single run's summary.json. */
export function folderRun(path: string): { run: RunEntry; points: PointEntry[] } | null {
  const dir = resolve(path);
  const file = `${dir}/summary.json`;
  if (!existsSync(dir) || !statSync(dir).isDirectory() || !existsSync(file)) return null;
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  } catch {
    return null;
  }
  if (Array.isArray(summary.points)) return null; // a sweep's folder: it is in the history
  const text = (value: unknown) => (typeof value === "string" ? value : "");
  const number = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : null);
  const status = summary.interrupted === true ? "interrupted" : "completed";
  const run: RunEntry = {
    id: 0, name: path, dir, started_at: "", ended_at: null, status, exit_code: null, reason: null,
    backend: text(summary.backend), model: text(summary.model), model_size: number(summary["model_size(B)"]), tp: number(summary.tp) ?? 1,
    mode: text(summary.mode), dataset: "", points_planned: 1, llmbench_version: text(summary.llmbench), host: text(summary.host), pid: null, pid_start: null,
  };
  const metrics = Object.fromEntries(HISTORY_METRICS.map((metric) => [metric, number(summary[metric])])) as Record<string, number | null>;
  const point = {
    ...metrics, run_id: 0, idx: 0, point: pointKeyOf(summary), num_clients: number(summary.num_clients), request_rate: number(summary.request_rate),
    status: status === "completed" ? "done" : "cut short", reason: null,
  } as PointEntry;
  return { run, points: [point] };
}
