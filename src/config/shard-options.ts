/**
 * `--shard K/N` (or the environment a Kubernetes Indexed Job gives: JOB_COMPLETION_INDEX with
 * LLMBENCH_SHARD_COUNT, or LLMBENCH_SHARD_INDEX / LLMBENCH_SHARD_COUNT) and the start barrier
 * `--start-at` with its tolerance. The flag wins over the environment.
 */
import { clientCores } from "../common/client-cores.ts";
import { missingCredentials, parseS3Url, type S3Location } from "../archive/s3-upload.ts";
import { parseRendezvousAddress, type RendezvousAddress } from "./rendezvous-address.ts";
import type { Shard } from "../workload/shards.ts";
import * as flag from "./flag-values.ts";
import { UsageError } from "./usage-error.ts";

export interface ShardOptions {
  shard: Shard | null;
  /** Epoch ms at which the point's clock starts; null to start at once. */
  startAtMs: number | null;
  /** How late (ms) a shard may start before it refuses to measure. */
  startToleranceMs: number;
  /** Worker processes on this host that run the point as shards (1: this process alone). */
  workers: number;
  /** Where shard 0 listens and the others check in (--rendezvous); null without one. */
  rendezvous: RendezvousAddress | null;
  /** How long the rendezvous may take in all before a shard gives up, naming who is missing. */
  rendezvousTimeoutMs: number;
  /** Where the finished run's folder is copied (--upload s3://bucket/prefix); null: it stays here only. */
  upload: S3Location | null;
}

export const DEFAULT_START_TOLERANCE_S = 1;
export const DEFAULT_RENDEZVOUS_TIMEOUT_S = 180;

function wholeNumber(what: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`${what}: expected a whole number ≥ 0, got "${text}"`);
  return Number(text.trim());
}

export function parseShard(raw: unknown, env: Record<string, string | undefined>): Shard | null {
  let index: number;
  let count: number;
  let source: string;
  if (raw !== undefined && raw !== null && raw !== "") {
    const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(String(raw));
    if (!match) throw new UsageError(`--shard: expected K/N (shard K of N, K from 0), got "${String(raw)}"`);
    index = Number(match[1]);
    count = Number(match[2]);
    source = "--shard";
  } else {
    const job = env.JOB_COMPLETION_INDEX;
    const own = env.LLMBENCH_SHARD_INDEX;
    if (job === undefined && own === undefined) {
      if (env.LLMBENCH_SHARD_COUNT !== undefined) throw new UsageError("LLMBENCH_SHARD_COUNT is set but no shard index: set JOB_COMPLETION_INDEX or LLMBENCH_SHARD_INDEX (or give --shard K/N)");
      return null;
    }
    if (job !== undefined && own !== undefined && job.trim() !== own.trim()) {
      throw new UsageError(`JOB_COMPLETION_INDEX (${job}) and LLMBENCH_SHARD_INDEX (${own}) disagree: set one`);
    }
    const name = own !== undefined ? "LLMBENCH_SHARD_INDEX" : "JOB_COMPLETION_INDEX";
    index = wholeNumber(name, (own ?? job)!);
    if (env.LLMBENCH_SHARD_COUNT === undefined) throw new UsageError(`${name} is set but LLMBENCH_SHARD_COUNT is not: how many shards are there?`);
    count = wholeNumber("LLMBENCH_SHARD_COUNT", env.LLMBENCH_SHARD_COUNT);
    source = `${name}/LLMBENCH_SHARD_COUNT`;
  }
  if (count < 1) throw new UsageError(`${source}: the shard count must be ≥ 1, got ${count}`);
  if (index >= count) throw new UsageError(`${source}: shard index ${index} is not below the count ${count} (shards are 0 … ${count - 1})`);
  return { index, count };
}

/** Epoch milliseconds, or an ISO 8601 time with a zone (2026-12-01T22:00:00Z). */
export function parseStartAt(raw: unknown): number | null {
  if (raw === undefined || raw === null || raw === "") return null;
  const text = String(raw).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(text)) {
    throw new UsageError(`--start-at: expected epoch milliseconds or an ISO time with a zone (2026-12-01T22:00:00Z), got "${text}"`);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--start-at: "${text}" is not a valid time`);
  return ms;
}

export function parseWorkers(raw: unknown, cores = clientCores()): number {
  if (raw === undefined || raw === null || raw === "") return 1;
  if (String(raw).trim().toLowerCase() === "auto") return cores;
  return flag.positiveInteger("--workers", raw)!;
}

export function parseShardOptions(raw: Record<string, unknown>, env: Record<string, string | undefined> = process.env): ShardOptions {
  const workers = parseWorkers(raw.workers);
  const shard = parseShard(raw.shard, env);
  if (workers > 1 && shard !== null) throw new UsageError(`--workers ${workers} with a shard (${shard.index}/${shard.count}): a shard runs in one process; split into more shards instead`);
  if (workers > 1 && raw.startAt !== undefined) throw new UsageError("--workers sets its workers' start barrier itself: drop --start-at");
  const rendezvous = parseRendezvous(raw.rendezvous);
  if (rendezvous !== null) {
    if (shard === null) throw new UsageError("--rendezvous: only a shard meets the others there: give --shard K/N (or JOB_COMPLETION_INDEX / LLMBENCH_SHARD_INDEX with LLMBENCH_SHARD_COUNT)");
    if (raw.startAt !== undefined) throw new UsageError("--rendezvous and --start-at: shard 0 announces the start at the rendezvous; give one of them");
  }
  return {
    workers,
    shard,
    rendezvous,
    upload: parseUpload(raw.upload, env),
    rendezvousTimeoutMs: flag.positiveSeconds("--rendezvous-timeout", raw.rendezvousTimeout, DEFAULT_RENDEZVOUS_TIMEOUT_S) * 1000,
    startAtMs: parseStartAt(raw.startAt),
    startToleranceMs: flag.nonNegativeSeconds("--start-tolerance", raw.startTolerance, DEFAULT_START_TOLERANCE_S)! * 1000,
  };
}

export function parseUpload(raw: unknown, env: Record<string, string | undefined>): S3Location | null {
  if (raw === undefined || raw === null || raw === "") return null;
  const location = parseS3Url(String(raw));
  if (typeof location === "string") throw new UsageError(`--upload: ${location}`);
  const missing = missingCredentials(env);
  if (missing) throw new UsageError(`--upload ${String(raw)}: ${missing}`);
  return location;
}

export function parseRendezvous(raw: unknown): RendezvousAddress | null {
  if (raw === undefined || raw === null || raw === "") return null;
  const address = parseRendezvousAddress(String(raw));
  if (typeof address === "string") throw new UsageError(`--rendezvous: ${address}`);
  return address;
}

/** A shard must have something to run: at least one user, one request of the budget and one slot of the cap. */
export function checkShardFits(shard: Shard | null, workload: { requestRate: number | null; numClients: number; numRequests: number | null; maxConcurrency: number | null }): void {
  if (shard === null) return;
  const n = shard.count;
  if (workload.requestRate === null && workload.numClients < n) throw new UsageError(`--shard ${shard.index}/${n}: ${workload.numClients} clients cannot be split over ${n} shards (some would run no user)`);
  if (workload.numRequests !== null && workload.numRequests < n) throw new UsageError(`--shard ${shard.index}/${n}: --num-requests ${workload.numRequests} cannot be split over ${n} shards`);
  if (workload.maxConcurrency !== null && workload.maxConcurrency < n) throw new UsageError(`--shard ${shard.index}/${n}: --max-concurrency ${workload.maxConcurrency} cannot be split over ${n} shards (some would have no slot)`);
}
