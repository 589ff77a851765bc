/**
 * One shard's side of a sharded point: its plan hash, its start barrier and its shard.json.
 * Everything here happens before the clock starts or after it stops, never per request.
 */
import { hostname } from "node:os";
import { ensureDir } from "../archive/result-files.ts";
import { planHash, writeShardFile, type ExitReason, type ShardFile } from "../archive/shard-file.ts";
import type { RequestStats } from "../metrics/request-stats.ts";
import { waitUntil } from "../workload/precise-timer.ts";
import { rendezvous, RendezvousFailed, RENDEZVOUS_FAILED_EXIT_CODE, wallClock, type RendezvousAddress } from "./rendezvous.ts";
import { closedLoopShare, shardLabel, shareOf, type Shard } from "../workload/shards.ts";
import type { LoopTiming } from "../workload/timing.ts";
import { VERSION } from "../version.ts";

/** The shard will not measure: it ends with this exit code and reason in shard.json. */
export class ShardRefused extends Error {
  constructor(message: string, readonly exitCode: number, readonly exitReason: ExitReason) {
    super(message);
  }
}

/** Exit code of a shard that refused to start late. */
export const LATE_START_EXIT_CODE = 3;

/** The shard would start later than the tolerance: it measures nothing rather than a different workload. */
export class LateStart extends ShardRefused {
  constructor(message: string) {
    super(message, LATE_START_EXIT_CODE, "late");
  }
}

export interface ShardSessionSpec {
  shard: Shard;
  startAtMs: number | null;
  startToleranceMs: number;
  /** Meet the other shards here for the start (instead of --start-at). */
  rendezvous?: { address: RendezvousAddress; timeoutMs: number } | null;
  /** The workload settings every shard must share (the shard's own index excluded). */
  plan: Record<string, unknown>;
  load: { requestRate: number | null; numClients: number; numRequests: number | null; maxConcurrency: number | null };
}

export class ShardSession {
  private readonly file: ShardFile;

  constructor(private readonly dir: string, private readonly spec: ShardSessionSpec) {
    const plan = { ...spec.plan, shard_count: spec.shard.count, start_at_ms: spec.startAtMs };
    this.file = {
      plan_hash: planHash(plan),
      plan,
      shard: spec.shard,
      host: hostname(),
      llmbench: VERSION,
      planned_start_ms: spec.startAtMs,
      clock: null,
      actual_start_ms: null,
      share: describeShare(spec),
      counts: { records: 0, sent: 0, completed: 0, failed: 0 },
      exit_reason: "running",
      steady_window_ms: null,
    };
  }

  get label(): string {
    return shardLabel(this.spec.shard);
  }

  /** Keys for summary.json. */
  context(): Record<string, unknown> {
    return { shard: this.spec.shard, plan_hash: this.file.plan_hash };
  }

  /** Throws LateStart when the barrier is already further behind than the tolerance. */
  checkNotLate(now = Date.now()): void {
    const startAtMs = this.file.planned_start_ms;
    if (startAtMs === null) return;
    const lateMs = now - startAtMs;
    if (lateMs > this.spec.startToleranceMs) {
      const what = this.file.clock ? `the start shard 0 announced at the rendezvous (${new Date(startAtMs).toISOString()} on this shard's clock)` : `the start (--start-at ${new Date(startAtMs).toISOString()})`;
      throw new LateStart(
        `shard ${this.label}: ${what} is ${(lateMs / 1000).toFixed(3)} s past, more than the tolerance of ${this.spec.startToleranceMs / 1000} s (--start-tolerance): not measuring a different workload`,
      );
    }
  }

  /** The start barrier, when it is decided after the session began (a worker's parent announces it). */
  planStart(atMs: number): void {
    this.file.planned_start_ms = atMs;
    writeShardFile(this.dir, this.file);
  }

  /** Called when the folder exists: the shard is running. */
  begin(): void {
    writeShardFile(this.dir, this.file);
  }

  /** The start barrier: the rendezvous or --start-at, then the wait (unless interrupted), refusing when already too late. */
  async barrier(interrupt?: AbortSignal, log?: (line: string) => void): Promise<void> {
    const meeting = this.spec.rendezvous;
    if (meeting) {
      let met;
      try {
        met = await rendezvous({ address: meeting.address, shard: this.spec.shard, planHash: this.file.plan_hash, timeoutMs: meeting.timeoutMs, signal: interrupt, log });
      } catch (error) {
        if (error instanceof RendezvousFailed) throw new ShardRefused(error.message, RENDEZVOUS_FAILED_EXIT_CODE, "rendezvous-failed");
        throw error;
      }
      if (interrupt?.aborted) return;
      this.file.planned_start_ms = met.startAtMs;
      this.file.clock = { offset_ms: met.offsetMs, rtt_ms: met.rttMs, pings: met.pings, rendezvous: `${meeting.address.host}:${meeting.address.port}` };
      writeShardFile(this.dir, this.file);
    }
    this.checkNotLate(wallClock());
    const startAtMs = this.file.planned_start_ms;
    if (startAtMs !== null) await waitUntil(startAtMs - performance.timeOrigin, interrupt);
  }

  recordOutcome(outcome: { requests: RequestStats[]; timing: LoopTiming; interrupted: boolean }): void {
    let sent = 0;
    let completed = 0;
    for (const request of outcome.requests) {
      if (request.sent) sent++;
      if (request.ok) completed++;
    }
    this.file.counts = { records: outcome.requests.length, sent, completed, failed: outcome.requests.length - completed };
    this.file.actual_start_ms = performance.timeOrigin + outcome.timing.startedAt;
    this.file.steady_window_ms = [performance.timeOrigin + outcome.timing.rampedUpAt, performance.timeOrigin + outcome.timing.stoppedAt];
  }

  end(reason: ExitReason): void {
    ensureDir(this.dir);
    this.file.exit_reason = reason;
    writeShardFile(this.dir, this.file);
  }
}

function describeShare(spec: ShardSessionSpec): Record<string, unknown> {
  const { shard, load } = spec;
  if (load.requestRate === null) {
    const share = closedLoopShare(load.numClients, load.numRequests, shard);
    return { users: share.users.length, user_ids: `u mod ${shard.count} = ${shard.index}`, max_requests: share.maxRequests };
  }
  return {
    requests: `j mod ${shard.count} = ${shard.index} of the global schedule`,
    max_requests: load.numRequests === null ? null : shareOf(load.numRequests, shard),
    max_concurrency: load.maxConcurrency === null ? null : shareOf(load.maxConcurrency, shard),
  };
}
