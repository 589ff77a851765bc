/**
 * shard.json: what one shard of a point was and how it went, beside its requests.jsonl. Written
 * when the shard starts (exit_reason "running") and again when it ends, so a killed shard is
 * recognisable: its file still says "running".
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Shard } from "../workload/shards.ts";
import { writeFileAtomic } from "./result-files.ts";

export const SHARD_FILE = "shard.json";

export type ExitReason = "running" | "completed" | "interrupted" | "late" | "rendezvous-failed" | "failed";

/** This shard's clock against shard 0's, measured at the rendezvous (ping-pongs, the least round trip). */
export interface ShardClock {
  /** This shard's clock minus shard 0's (ms): `llmbench merge` subtracts it from this shard's timestamps. */
  offset_ms: number;
  /** Round trip of the ping the offset comes from (the offset is right to within half of it); null on shard 0. */
  rtt_ms: number | null;
  pings: number;
  /** host:port of the rendezvous. */
  rendezvous: string;
}

export interface ShardFile {
  /** Hash of the workload settings every shard of the point must share. */
  plan_hash: string;
  /** The settings hashed, for a person reading why two plans differ. */
  plan: Record<string, unknown>;
  shard: Shard;
  host: string;
  llmbench: string;
  /** Epoch ms (this shard's clock) of the start barrier (--start-at or the rendezvous's); null when the shard started at once. */
  planned_start_ms: number | null;
  /** The rendezvous's clock offset; absent or null without a rendezvous (the clocks are trusted as they are). */
  clock?: ShardClock | null;
  /** Epoch ms when this shard's clock started; null before it did. */
  actual_start_ms: number | null;
  /** This shard's share: its users (closed loop) or its requests of the schedule (rate mode), budget and cap. */
  share: Record<string, unknown>;
  counts: { records: number; sent: number; completed: number; failed: number };
  exit_reason: ExitReason;
  /** Epoch ms of the steady window (after the ramp-up, before the stop); null before the point ran. */
  steady_window_ms: [number, number] | null;
}

/** A stable hash of settings: keys sorted at every depth, so the order they were written in does not matter. */
export function planHash(plan: Record<string, unknown>): string {
  return createHash("sha256").update(canonicalJson(plan)).digest("hex").slice(0, 16);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as object).sort().filter((key) => (value as Record<string, unknown>)[key] !== undefined);
    return `{${entries.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(",")}}`;
  }
  return JSON.stringify(value ?? null);
}

export function writeShardFile(dir: string, file: ShardFile): void {
  writeFileAtomic(join(dir, SHARD_FILE), JSON.stringify(file, null, 2) + "\n");
}

/** The shard.json of a folder, or a message saying why there is none usable. */
export function readShardFile(dir: string): ShardFile | string {
  let text: string;
  try {
    text = readFileSync(join(dir, SHARD_FILE), "utf8");
  } catch {
    return `${dir}: no ${SHARD_FILE} (not a shard's result folder: run with --shard K/N)`;
  }
  return parseShardFile(text, join(dir, SHARD_FILE));
}

/** A shard.json's text (read from `path`, named in the message) as a ShardFile, or why it is not one. */
export function parseShardFile(text: string, path: string): ShardFile | string {
  try {
    const file = JSON.parse(text) as ShardFile;
    if (typeof file.plan_hash !== "string" || !file.shard || !Number.isInteger(file.shard.index) || !Number.isInteger(file.shard.count)) {
      return `${path}: expected plan_hash and shard {index, count}`;
    }
    return file;
  } catch (error) {
    return `${path}: not valid JSON (${(error as Error).message})`;
  }
}
