/**
 * A point run as N shards by N worker processes of this executable (`run`/`sweep --workers N`), merged
 * into the point's folder as one process would have written it (the workers' own folders go under
 * <point>/workers/). The parent starts them together once all are ready (same host, same clock),
 * shows the sum of their requests in its live panel, passes Ctrl-C on, and merges at the end.
 */
import { join } from "node:path";
import { mergeShards } from "../merge/merge-point.ts";
import { LiveProgress } from "../report/progress.ts";
import { llmbenchCommand } from "../server/self-command.ts";
import type { Shard } from "../workload/shards.ts";
import type { PointResult, PointRunOptions, PointSpec } from "./point.ts";
import { POINT_WORKER_ARG, type ParentMessage, type WorkerJob, type WorkerMessage } from "./point-worker.ts";
import { feedProgress } from "./progress-relay.ts";
import { tunedChildEnv } from "../common/runtime-tuning.ts";
import { wallClock } from "./rendezvous.ts";
import type { TargetSpec } from "./target.ts";

/** Loading the dataset and tokenizer and warming up may take this long before a worker is ready. */
const READY_TIMEOUT_MS = 180_000;
/** The start lies this far after the last worker said it is ready. */
const START_LEAD_MS = 300;
const START_TOLERANCE_MS = 5000;

/** How many workers a point can use: no more than it has users (closed loop) or requests in its budget. */
export function workersFor(spec: PointSpec, workers: number): number {
  let count = workers;
  if (spec.requestRate === null) count = Math.min(count, spec.numClients);
  if (spec.numRequests !== null) count = Math.min(count, spec.numRequests);
  return Math.max(1, count);
}

/** The settings every worker's shard.json hashes: the point's, without the shard. */
function planOf(target: TargetSpec, spec: PointSpec): Record<string, unknown> {
  const { shard: _shard, ...point } = spec;
  return { target: { ...target }, point: { ...point, requestRate: spec.requestRate === Infinity ? "inf" : spec.requestRate } };
}

export async function executePointInWorkers(count: number, targetSpec: TargetSpec, spec: PointSpec, options: PointRunOptions): Promise<PointResult> {
  const dirs = Array.from({ length: count }, (_, index) => join(options.dir, "workers", `worker-${index}`));
  const progress = new LiveProgress({ title: `${options.progressTitle ?? "point"}, ${count} workers`, budget: spec.numRequests, stopTimeS: spec.stopTimeS, enabled: options.progress });
  const ready = new Set<number>();
  const done = new Map<number, { exitCode: number; error: string | null }>();
  let allReady!: () => void;
  const readyPromise = new Promise<void>((resolve) => (allReady = resolve));

  const onMessage = (index: number, message: WorkerMessage) => {
    if (message.type === "ready") {
      ready.add(index);
      if (ready.size === count) allReady();
    } else if (message.type === "progress") {
      feedProgress(progress, message);
    } else if (message.type === "done") {
      done.set(index, { exitCode: message.exitCode, error: message.error });
    }
  };
  const children = dirs.map((dir, index) => {
    const shard: Shard = { index, count };
    const child = Bun.spawn([...llmbenchCommand(), POINT_WORKER_ARG], {
      ipc: (message: WorkerMessage) => onMessage(index, message),
      serialization: "advanced",
      stdout: "inherit",
      stderr: "inherit",
      env: tunedChildEnv(),
    });
    const job: WorkerJob = { target: targetSpec, spec, shard, dir, labels: options.labels, context: options.context ?? {}, plan: planOf(targetSpec, spec), startToleranceMs: START_TOLERANCE_MS };
    child.send({ type: "job", job } satisfies ParentMessage);
    return child;
  });
  const tell = (message: ParentMessage) => {
    for (const child of children) if (child.exitCode === null) child.send(message);
  };
  const onAbort = () => tell({ type: "stop", reason: reasonOf(options.interrupt!) });
  options.interrupt?.addEventListener("abort", onAbort, { once: true });
  const exited = Promise.all(children.map((child) => child.exited));

  try {
    // every worker ready, or one gone before it was, or too long
    let readyTimer: ReturnType<typeof setTimeout> | undefined;
    const outcome = await Promise.race([
      readyPromise.then(() => "ready" as const),
      Promise.race(children.map((child, index) => child.exited.then(() => `worker ${index}/${count} exited (code ${child.exitCode}) before it was ready${done.get(index)?.error ? `: ${done.get(index)!.error}` : ""}`))),
      new Promise<string>((resolve) => (readyTimer = setTimeout(() => resolve(`workers ${missing(count, ready)} were not ready within ${READY_TIMEOUT_MS / 1000} s`), READY_TIMEOUT_MS))),
    ]);
    clearTimeout(readyTimer);
    if (outcome !== "ready") {
      tell({ type: "stop", reason: outcome });
      await exited;
      throw new Error(`--workers: ${outcome}`);
    }
    progress.start();
    tell({ type: "start", atMs: wallClock() + START_LEAD_MS });
    await exited;
  } finally {
    progress.stop();
    options.interrupt?.removeEventListener("abort", onAbort);
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
  }
  const failed = children.map((child, index) => ({ index, code: child.exitCode ?? 1 })).filter((worker) => worker.code !== 0);
  if (failed.length > 0) {
    const lines = failed.map((worker) => `worker ${worker.index}/${count} exited with code ${worker.code}${done.get(worker.index)?.error ? `: ${done.get(worker.index)!.error}` : ""} (its folder: ${dirs[worker.index]})`);
    throw new Error(`--workers: ${lines.join("; ")}`);
  }
  const interrupted = options.interrupt?.aborted ?? false;
  const merged = await mergeShards(dirs, { outDir: options.dir, allowPartial: false, acceptInterrupted: interrupted, context: options.context, thresholds: spec.thresholds });
  const gauges = merged.gauges ? { status: merged.gauges.status, gauges: merged.gauges.gauges } : { status: "off", gauges: {} };
  const row = options.columns ? { ...merged.point.row, ...options.columns } : merged.point.row;
  return { ...merged.point, row, gauges: gauges as PointResult["gauges"], interrupted, requests: merged.requests, thresholds: merged.thresholds };
}

function missing(count: number, ready: Set<number>): string {
  return Array.from({ length: count }, (_, index) => index).filter((index) => !ready.has(index)).map((index) => `${index}/${count}`).join(", ");
}

function reasonOf(signal: AbortSignal): string {
  const reason = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}
