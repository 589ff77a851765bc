/**
 * One worker of a point run in N processes of this executable (`--workers N`): its parent
 * sends the job over IPC (the target's and point's settings as the parent resolved them, and which
 * shard this is), the worker loads the target, warms up, says it is ready, waits for the start the
 * parent announces, runs its shard into its own folder (requests.jsonl, summary.json, shard.json)
 * and passes what finishes to the parent's live panel in batches, four times a second.
 */
import type { PointLabels } from "../report/seed-columns.ts";
import { StopReason } from "../workload/closed-loop.ts";
import type { Shard } from "../workload/shards.ts";
import { executePoint, type PointSpec } from "./point.ts";
import { ProgressRelay, type ProgressBatch } from "./progress-relay.ts";
import { ShardRefused, ShardSession } from "./shard-session.ts";
import { loadTarget, type TargetSpec } from "./target.ts";

export { POINT_WORKER_ARG } from "./point-worker-arg.ts";

export interface WorkerJob {
  target: TargetSpec;
  spec: PointSpec;
  shard: Shard;
  dir: string;
  labels: PointLabels;
  context: Record<string, unknown>;
  /** The settings every worker of the point shares (its plan hash). */
  plan: Record<string, unknown>;
  startToleranceMs: number;
}

export type ParentMessage = { type: "job"; job: WorkerJob } | { type: "start"; atMs: number } | { type: "stop"; reason: string };

export type WorkerMessage =
  | { type: "ready" }
  | ProgressBatch
  | { type: "done"; exitCode: number; error: string | null };


export async function runPointWorker(): Promise<never> {
  const send = (message: WorkerMessage) => process.send!(message);
  let onStart: ((atMs: number) => void) | null = null;
  const startAt = new Promise<number>((resolve) => (onStart = resolve));
  const interrupt = new AbortController();
  const job = await new Promise<WorkerJob>((resolve) => {
    process.on("message", (message: ParentMessage) => {
      if (message.type === "job") resolve(message.job);
      else if (message.type === "start") onStart!(message.atMs);
      else if (message.type === "stop" && !interrupt.signal.aborted) interrupt.abort(new StopReason(message.reason));
    });
  });
  // Ctrl-C reaches the whole process group: the worker stops its point and keeps its records, as the parent does
  const onSignal = (signal: NodeJS.Signals) => {
    if (!interrupt.signal.aborted) interrupt.abort(new StopReason(signal === "SIGTERM" ? "interrupted (SIGTERM)" : "interrupted (Ctrl-C)"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  interrupt.signal.addEventListener("abort", () => onStart?.(0), { once: true });

  const relay = new ProgressRelay(send);

  const session = new ShardSession(job.dir, { shard: job.shard, startAtMs: null, startToleranceMs: job.startToleranceMs, plan: job.plan, load: job.spec });
  let exitCode = 0;
  let error: string | null = null;
  let target: Awaited<ReturnType<typeof loadTarget>> | null = null;
  try {
    target = await loadTarget(job.target);
    const result = await executePoint(target, { ...job.spec, shard: job.shard, serverGauges: job.spec.serverGauges && job.shard.index === 0 }, {
      dir: job.dir,
      labels: job.labels,
      progress: false,
      interrupt: interrupt.signal,
      context: { ...job.context, ...session.context() },
      beforeStart: async () => {
        session.begin();
        send({ type: "ready" });
        const atMs = await startAt;
        if (interrupt.signal.aborted) return;
        session.planStart(atMs);
        await session.barrier(interrupt.signal);
      },
      recordTags: { shard: job.shard.index },
      onRequestSent: () => relay.onSent(),
      onRequestFinished: (stats) => relay.onFinished(stats),
      onFinished: (outcome) => session.recordOutcome(outcome),
    });
    session.end(result.interrupted ? "interrupted" : "completed");
  } catch (caught) {
    if (caught instanceof ShardRefused) {
      session.end(caught.exitReason);
      exitCode = caught.exitCode;
    } else {
      session.end("failed");
      exitCode = 1;
    }
    error = (caught as Error)?.message ?? String(caught);
  } finally {
    target?.backend.close?.();
    relay.stop();
  }
  send({ type: "done", exitCode, error });
  // the parent reads the folder: give the last message time to cross the pipe, then go
  await Bun.sleep(50);
  process.exit(exitCode);
}
