/**
 * `llmbench run` in the history: once a run is over, its entry and its one point go to the same
 * history.db sweeps write (`llmbench history` lists it, `compare` compares it). A run in the
 * default folder (`result/<date>/<time>_…`) is recorded in `result/history.db`; a run given its own
 * --result-dir in the history of that folder's parent, when one exists there (no database is made
 * beside an arbitrary folder). Shards are parts of a run and are not recorded.
 */
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { dirname, relative, resolve } from "node:path";
import pc from "picocolors";
import { RunHistory } from "../archive/history.ts";
import type { RunOptions } from "../config/run-options.ts";
import { processStartTicks } from "../server/pid-file.ts";
import { VERSION } from "../version.ts";
import type { PointResult } from "./point.ts";

/** Where the run's history is, and its name there; null when it is not to be recorded. */
export function historyPlaceOf(dir: string, explicitDir: boolean, defaultRoot = "result"): { root: string; name: string } | null {
  const absolute = resolve(dir);
  const root = explicitDir ? dirname(absolute) : resolve(defaultRoot);
  if (explicitDir && !existsSync(RunHistory.path(root))) return null;
  return { root, name: relative(root, absolute).split("\\").join("/") };
}

export function runStatusOf(result: Pick<PointResult, "interrupted" | "summary">, exitCode: number): { status: string; reason: string | null } {
  if (result.interrupted || exitCode === 130 || exitCode === 143) return { status: "interrupted", reason: exitCode === 143 ? "interrupted (SIGTERM)" : "interrupted (Ctrl-C)" };
  if (result.summary.completed === 0) return { status: "failed", reason: "no request completed" };
  return { status: "completed", reason: exitCode === 3 ? "a threshold failed" : null };
}

/** Records the finished run; the history is a convenience, so failing to write it only warns. */
export function recordRunInHistory(options: RunOptions, dir: string, startedAt: Date, result: Pick<PointResult, "interrupted" | "summary" | "row">, exitCode: number): void {
  if (options.shard) return;
  const place = historyPlaceOf(dir, options.resultDir !== null);
  if (!place) return;
  const { status, reason } = runStatusOf(result, exitCode);
  const rate = options.traceFile ? null : options.requestRate;
  const key = options.traceFile ? "trace" : rate === null ? `clients=${options.numClients}` : `rate=${rate}`;
  let history: RunHistory | null = null;
  try {
    history = RunHistory.open(place.root, { create: true })!;
    const modelSize = Number(options.modelSize);
    history.recordFinishedRun(
      {
        name: place.name,
        dir: resolve(dir),
        started_at: startedAt.toISOString(),
        backend: options.backend,
        model: options.model,
        model_size: options.modelSize !== "" && Number.isFinite(modelSize) ? modelSize : null,
        tp: options.tp,
        mode: options.mode,
        dataset: options.dataset === "file" ? (options.datasetPath ?? "") : options.dataset,
        points_planned: 1,
        llmbench_version: VERSION,
        host: hostname(),
        pid: process.pid,
        pid_start: processStartTicks(process.pid),
      },
      { ended_at: new Date().toISOString(), status, exit_code: exitCode, reason },
      {
        index: 0,
        key,
        numClients: rate === null && !options.traceFile ? options.numClients : null,
        requestRate: rate,
        status: result.interrupted ? "cut short" : "done",
        reason: result.interrupted ? reason : null,
        row: result.row,
      },
    );
  } catch (error) {
    console.error(pc.yellow(`llmbench: warning: could not record the run in ${RunHistory.path(place.root)}: ${(error as Error)?.message ?? error}`));
  } finally {
    history?.close();
  }
}
