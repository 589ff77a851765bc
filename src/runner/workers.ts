/**
 * `llmbench run --workers N`: the point run as N shards by N processes of this same executable on
 * this host, started together at a start barrier, then merged into the run's folder. Each worker
 * writes its own folder under <dir>/workers/; the merged summary.json and summary.csv go to <dir>.
 */
import { tunedChildEnv } from "../common/runtime-tuning.ts";
import { join } from "node:path";
import pc from "picocolors";
import { mergeShards } from "../merge/merge-point.ts";
import { formatSummary } from "../report/console-summary.ts";
import { llmbenchCommand } from "../server/self-command.ts";
import type { PointSummary } from "./point-summary.ts";
import { LiveProgress, type ProgressOptions } from "../report/progress.ts";
import { feedProgress, PROGRESS_IPC_ENV, type ProgressBatch } from "./progress-relay.ts";

/** Flags of the parent that the workers get in their own form, or not at all. */
const DROPPED_WITH_VALUE = new Set(["--workers", "--result-dir", "--start-at", "--start-tolerance", "--shard", "--upload"]);
const DROPPED_ALONE = new Set(["--no-progress"]);

/** How long the workers get to start up before the barrier, and how late one may be. */
const START_DELAY_MS = 3000;
const START_TOLERANCE_S = 10;

/** The parent's `run` arguments without the flags each worker gets its own value of. */
export function workerArgs(parentArgs: readonly string[], worker: { index: number; count: number; dir: string; startAtMs: number }): string[] {
  const kept: string[] = [];
  for (let i = 0; i < parentArgs.length; i++) {
    const arg = parentArgs[i]!;
    const name = arg.split("=")[0]!;
    if (DROPPED_ALONE.has(arg)) continue;
    if (DROPPED_WITH_VALUE.has(name)) {
      if (!arg.includes("=")) i++;
      continue;
    }
    kept.push(arg);
  }
  return [...kept, "--shard", `${worker.index}/${worker.count}`, "--result-dir", worker.dir, "--start-at", String(worker.startAtMs), "--start-tolerance", String(START_TOLERANCE_S), "--no-progress"];
}

/** `onMerged` gets the merged point and the exit code once it is written (the run's history entry). */
export async function runWorkers(
  count: number, dir: string, parentArgs: readonly string[], title: string, panel: ProgressOptions, onMerged?: (point: PointSummary, exitCode: number) => void,
): Promise<number> {
  const startAtMs = Date.now() + START_DELAY_MS;
  const dirs = Array.from({ length: count }, (_, index) => join(dir, "workers", `worker-${index}`));
  // one live panel for all: the workers relay their requests' compact stats over IPC
  let progress: LiveProgress | null = null;
  const panelTimer = setTimeout(() => {
    progress = new LiveProgress({ ...panel, title: `${panel.title}, ${count} workers` });
    progress.start();
  }, Math.max(0, startAtMs - Date.now()));
  const children = dirs.map((workerDir, index) =>
    Bun.spawn([...llmbenchCommand(), ...workerArgs(parentArgs, { index, count, dir: workerDir, startAtMs })], {
      stdout: "ignore",
      stderr: "inherit",
      env: { ...tunedChildEnv(), [PROGRESS_IPC_ENV]: "1" }, // tuned already: no re-exec (it would carry the IPC channel across execve)
      ipc: (message: ProgressBatch) => {
        if (message.type === "progress" && progress) feedProgress(progress, message);
      },
      serialization: "advanced",
    }),
  );
  // Ctrl-C reaches the workers through the terminal's process group; a SIGTERM to this process is passed on
  const onTerm = () => {
    for (const child of children) child.kill("SIGTERM");
  };
  process.on("SIGTERM", onTerm);
  process.on("SIGINT", () => {}); // the workers finish and write their records; this process merges what they wrote
  let codes: number[];
  try {
    codes = await Promise.all(children.map((child) => child.exited));
  } finally {
    clearTimeout(panelTimer);
    (progress as LiveProgress | null)?.stop();
    process.off("SIGTERM", onTerm);
  }
  const failed = codes.map((code, index) => ({ code, index })).filter((worker) => worker.code !== 0);
  for (const worker of failed) console.error(pc.red(`llmbench: worker ${worker.index}/${count} exited with code ${worker.code} (its folder: ${dirs[worker.index]})`));
  const result = await mergeShards(dirs, { outDir: dir, allowPartial: failed.length > 0 });
  console.log(formatSummary(`${title}, ${count} workers`, { ...result.point, ...(result.gauges ? { gauges: result.gauges } : {}) }));
  if (result.leftOut) console.log(pc.yellow(`  partial: ${result.leftOut}`));
  console.log(pc.dim(`  results in ${dir} (each worker's records in ${join(dir, "workers")})`));
  const exitCode = failed.length > 0 ? failed[0]!.code : result.point.summary.completed > 0 ? 0 : 1;
  onMerged?.(result.point, exitCode);
  return exitCode;
}
