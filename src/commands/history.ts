import type { CAC } from "cac";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { RunHistory, type RunEntry } from "../archive/history.ts";
import { writeRunInfo, type RunInfo } from "../archive/run-info.ts";
import { processStartTicks } from "../server/pid-file.ts";
import { isProcessAlive } from "../server/process-group.ts";
import * as flag from "../config/flag-values.ts";
import type { RawFlags } from "../config/run-options.ts";
import { UsageError } from "../config/usage-error.ts";
import { folderRun } from "../archive/folder-run.ts";
import { repeatsOfRun } from "../archive/repeat-files.ts";
import { comparisonData, formatComparison, formatRunList } from "../report/history-report.ts";

export function registerHistory(cli: CAC): void {
  cli
    .command("history", "List past sweeps recorded in <output-dir>/history.db, newest first")
    .option("--output-dir <dir>", "The archive's root", { default: "result" })
    .option("--limit <n>", "How many runs to list", { default: 20 })
    .option("--json", "Print the runs as a JSON array instead of a table")
    .action((flags: RawFlags) => {
      const limit = flag.positiveInteger("--limit", flags.limit, 20)!;
      const json = flags.json === true;
      const history = RunHistory.open(outputDir(flags), { create: false });
      if (!history) {
        console.log(json ? "[]" : `no runs recorded in ${RunHistory.path(outputDir(flags))} yet`);
        return;
      }
      try {
        markAbandoned(history);
        const runs = history.listRuns(limit);
        if (json) console.log(JSON.stringify(runs, null, 2));
        else console.log(runs.length > 0 ? formatRunList(runs) : `no runs recorded in ${RunHistory.path(outputDir(flags))} yet`);
      } finally {
        history.close();
      }
    });

  cli
    .command("compare <runA> <runB>", "Point by point, how run B's main metrics changed from run A's (runs by # in llmbench history, name, latest, or a run's result folder); repeated points (--num-runs) are marked within noise when their 95 % intervals overlap")
    .option("--output-dir <dir>", "The archive's root", { default: "result" })
    .option("--json", "Print the comparison as JSON (both runs; per point each metric's A, B, change in percent and, for repeated points, within_noise)")
    .action((runA: string, runB: string, flags: RawFlags) => {
      const history = RunHistory.open(outputDir(flags), { create: false });
      try {
        if (history) markAbandoned(history);
        const find = (reference: string) => {
          const run = history?.findRun(String(reference));
          if (run) return { run, points: history!.pointsOf(run.id), repeats: repeatsOfRun(run.dir) };
          const folder = folderRun(String(reference));
          if (folder) return { ...folder, repeats: repeatsOfRun(folder.run.dir, folder.points[0]!.point) };
          if (!history) throw new UsageError(`no run history in ${RunHistory.path(outputDir(flags))} and "${reference}" is no run's result folder: run llmbench sweep (or run) first`);
          throw new UsageError(`no run "${reference}" in ${RunHistory.path(outputDir(flags))}, nor a run's result folder of that name; llmbench history lists them`);
        };
        const a = find(runA);
        const b = find(runB);
        const repeats = { a: a.repeats, b: b.repeats };
        console.log(
          flags.json === true
            ? JSON.stringify(comparisonData(a.run, b.run, a.points, b.points, repeats), null, 2)
            : formatComparison(a.run, b.run, a.points, b.points, repeats),
        );
      } finally {
        history?.close();
      }
    });
}

/** A run still "running" whose llmbench is gone is shown (and recorded, in run.json too) as aborted. */
function markAbandoned(history: RunHistory): void {
  const alive = (run: RunEntry) => {
    if (run.pid === null || !isProcessAlive(run.pid)) return false;
    const ticks = processStartTicks(run.pid);
    return run.pid_start === null || ticks === null || ticks === run.pid_start; // not a reused pid
  };
  try {
    history.markAbandonedRuns(alive, hostname(), onAborted);
  } catch {
    // a history this user may read but not write is still listed, as it is
  }
}

/** The run's run.json says aborted too, if it still says running. */
function onAborted(run: RunEntry, reason: string): void {
  try {
    const info = JSON.parse(readFileSync(join(run.dir, "run.json"), "utf8")) as RunInfo;
    if (info.status === "running") writeRunInfo(run.dir, { ...info, status: "aborted", reason });
  } catch {
    // the run folder was moved or removed: the history alone says it
  }
}

function outputDir(flags: RawFlags): string {
  return resolve(flag.text("--output-dir", flags.outputDir, "result"));
}
