/**
 * Which shard folders make one point: the same plan, each index once, none missing (unless a
 * partial merge is asked for, which leaves out the missing and the unfinished and says so).
 */
import { parseShardFile, SHARD_FILE, type ShardFile } from "../archive/shard-file.ts";
import { UsageError } from "../config/usage-error.ts";
import type { ShardSource } from "./shard-source.ts";

export interface ShardFolder {
  /** The folder as named in messages: a path or an s3:// URL. */
  dir: string;
  file: ShardFile;
}

/** A shard folder with where its files are read from. */
export interface SourcedFolder extends ShardFolder {
  source: ShardSource;
}

export interface ShardSet<T extends ShardFolder = ShardFolder> {
  count: number;
  planHash: string;
  /** The shards merged, by index. */
  included: T[];
  /** Shard indices with no folder given. */
  missing: number[];
  /** Shards given but left out (partial merge): they did not complete. */
  unfinished: T[];
}

/** Pure: checks shard files read from folders; throws a UsageError naming every problem. */
export function checkShardSet<T extends ShardFolder>(folders: T[], allowPartial: boolean, acceptInterrupted = false): ShardSet<T> {
  const finished = (folder: ShardFolder) => folder.file.exit_reason === "completed" || (acceptInterrupted && folder.file.exit_reason === "interrupted");
  if (folders.length === 0) throw new UsageError("merge: give the shards' result folders");
  const problems: string[] = [];
  const byHash = new Map<string, T[]>();
  for (const folder of folders) {
    const group = byHash.get(folder.file.plan_hash) ?? [];
    group.push(folder);
    byHash.set(folder.file.plan_hash, group);
  }
  if (byHash.size > 1) {
    const groups = [...byHash].map(([hash, group]) => `plan ${hash}: ${group.map(label).join(", ")}`);
    throw new UsageError(`merge: the shards are of different plans (workload settings differ; see "plan" in each shard.json):\n  ${groups.join("\n  ")}`);
  }
  const counts = new Set(folders.map((folder) => folder.file.shard.count));
  if (counts.size > 1) problems.push(`shard counts differ: ${folders.map(label).join(", ")}`);
  const count = folders[0]!.file.shard.count;

  const byIndex = new Map<number, T[]>();
  for (const folder of folders) {
    const group = byIndex.get(folder.file.shard.index) ?? [];
    group.push(folder);
    byIndex.set(folder.file.shard.index, group);
  }
  for (const [index, group] of [...byIndex].sort((a, b) => a[0] - b[0])) {
    if (group.length > 1) problems.push(`shard ${index}/${count} is given ${group.length} times: ${group.map((folder) => folder.dir).join(", ")}`);
  }
  const apart = startsApart(folders);
  if (apart) problems.push(apart);
  if (problems.length > 0) throw new UsageError(`merge: ${problems.join("; ")}`);

  const missing: number[] = [];
  for (let index = 0; index < count; index++) if (!byIndex.has(index)) missing.push(index);
  const unfinished = folders.filter((folder) => !finished(folder)).sort(byShardIndex);
  if (!allowPartial && (missing.length > 0 || unfinished.length > 0)) {
    const lines = [
      ...missing.map((index) => `shard ${index}/${count} is missing (no folder given)`),
      ...unfinished.map((folder) => `${label(folder)} did not complete (exit reason "${folder.file.exit_reason}"${folder.file.exit_reason === "running" ? ": killed or still running" : ""})`),
    ];
    throw new UsageError(`merge: incomplete point:\n  ${lines.join("\n  ")}\n(--allow-partial merges the complete shards and records what is missing)`);
  }
  const included = folders.filter(finished).sort(byShardIndex);
  if (included.length === 0) throw new UsageError(`merge: no shard completed: ${folders.map(label).join(", ")}`);
  return { count, planHash: folders[0]!.file.plan_hash, included, missing, unfinished };
}

/**
 * Shards of one run share their start barrier (--start-at, the rendezvous's announced start, a
 * parent's for its workers): on shard 0's clock their planned starts agree to within the offset's
 * error. Starts further apart than this are of different runs of the same plan (a folder left in a
 * prefix by an earlier run).
 */
export const SAME_RUN_START_SPREAD_MS = 10_000;

/** A problem when the planned starts (each moved onto shard 0's clock) are too far apart; null otherwise. */
function startsApart(folders: ShardFolder[]): string | null {
  const planned = folders
    .filter((folder) => folder.file.planned_start_ms !== null)
    .map((folder) => ({ folder, atMs: folder.file.planned_start_ms! - (folder.file.clock?.offset_ms ?? 0) }))
    .sort((a, b) => a.atMs - b.atMs || byShardIndex(a.folder, b.folder));
  if (planned.length < 2 || planned.at(-1)!.atMs - planned[0]!.atMs <= SAME_RUN_START_SPREAD_MS) return null;
  const spreadS = (planned.at(-1)!.atMs - planned[0]!.atMs) / 1000;
  return `the shards were planned to start ${spreadS.toFixed(1)} s apart, so they are not one run of the point (a folder left from an earlier run?): ${planned.map(({ folder, atMs }) => `${label(folder)} at ${new Date(atMs).toISOString()}`).join(", ")}`;
}

/** Each source's shard.json; a UsageError naming every folder without a usable one. */
export async function readShardSources(sources: ShardSource[]): Promise<SourcedFolder[]> {
  const problems: string[] = [];
  const folders: SourcedFolder[] = [];
  for (const source of sources) {
    const text = await source.readText(SHARD_FILE);
    const file = text === null ? `${source.name}: no ${SHARD_FILE} (not a shard's result folder: run with --shard K/N)` : parseShardFile(text, source.pathOf(SHARD_FILE));
    if (typeof file === "string") problems.push(file);
    else folders.push({ dir: source.name, file, source });
  }
  if (problems.length > 0) throw new UsageError(`merge: ${problems.join("; ")}`);
  return folders;
}

function label(folder: ShardFolder): string {
  return `shard ${folder.file.shard.index}/${folder.file.shard.count} (${folder.dir})`;
}

function byShardIndex(a: ShardFolder, b: ShardFolder): number {
  return a.file.shard.index - b.file.shard.index;
}

/** What a partial merge left out, in words. */
export function describeLeftOut(set: ShardSet): string | null {
  const parts = [
    ...set.missing.map((index) => `shard ${index}/${set.count} missing`),
    ...set.unfinished.map((folder) => `shard ${folder.file.shard.index}/${set.count} did not complete (${folder.file.exit_reason}, ${folder.dir})`),
  ];
  return parts.length > 0 ? parts.join("; ") : null;
}
