/**
 * `llmbench merge`: one point's summary rebuilt from its shards' requests.jsonl with the same
 * code a running point uses, so the merged numbers are what one process would have computed from
 * the same records. Records are read line by line and only their compact stats are kept (what a
 * running point keeps too), never the files whole.
 */
import { ensureDir, writeSummaryFiles } from "../archive/result-files.ts";
import { UsageError } from "../config/usage-error.ts";
import type { GoodputSlo } from "../metrics/goodput.ts";
import { statsOf, type RequestStats } from "../metrics/request-stats.ts";
import type { RequestRecord } from "../records/record.ts";
import type { PointLabels } from "../report/seed-columns.ts";
import { summarizePoint, summaryObject, type PointSummary, type SummaryInputs } from "../runner/point-summary.ts";
import { checkThresholds, type Threshold, type ThresholdResult } from "../report/thresholds.ts";
import { connectSummary, type PreconnectReport } from "../runner/connections.ts";
import { checkShardSet, describeLeftOut, readShardSources, type ShardFolder, type ShardSet, type SourcedFolder } from "./shard-set.ts";
import { localSource, type ShardSource } from "./shard-source.ts";

export interface MergeResult {
  set: ShardSet<SourcedFolder>;
  point: PointSummary;
  leftOut: string | null;
  /** Spread of the shards' actual starts on shard 0's clock (each corrected by its clock offset). */
  startSpreadMs: number | null;
  /** The clock offsets (shard index → ms, this shard's clock minus shard 0's) the timeline was corrected with; empty without a rendezvous. */
  clockOffsetsMs: Record<number, number>;
  outDir: string;
  /** Shard 0's server gauges, when it is among the merged shards. */
  gauges: { status: string; gauges: SummaryInputs["gauges"] } | undefined;
  /** Every merged request's stats (timestamps on shard 0's clock). */
  requests: RequestStats[];
  /** The thresholds checked against the merged row (none unless asked for). */
  thresholds: ThresholdResult[];
}

export interface MergeOptions {
  outDir: string;
  allowPartial: boolean;
  /** Shards that were interrupted count as finished (a sweep's point cut short by Ctrl-C keeps what it measured). */
  acceptInterrupted?: boolean;
  /** Extra keys for the merged summary.json (a sweep's run and point). */
  context?: Record<string, unknown>;
  /** Checked against the merged row and listed in summary.json. */
  thresholds?: readonly Threshold[];
}

export function mergeShards(dirs: string[], options: MergeOptions): Promise<MergeResult> {
  return mergeSources(dirs.map(localSource), options);
}

/** The point merged from its shards' folders, wherever they are read from (local folders, S3 prefixes). */
export async function mergeSources(sources: ShardSource[], options: MergeOptions): Promise<MergeResult> {
  const set = checkShardSet(await readShardSources(sources), options.allowPartial, options.acceptInterrupted ?? false);
  const requests: RequestStats[] = [];
  const connectMs: (number | null)[] = [];
  const summaries = new Map<SourcedFolder, Record<string, unknown>>();
  for (const folder of set.included) {
    summaries.set(folder, await readSummary(folder));
    await readRecords(folder, requests, connectMs);
  }
  const readSummaryOf = (folder: SourcedFolder) => summaries.get(folder)!;

  const first = readSummaryOf(set.included[0]!);
  const shardZero = set.included.find((folder) => folder.file.shard.index === 0);
  const zero = shardZero ? readSummaryOf(shardZero) : null;
  const template = zero ?? first;
  const gauges = zero?.server_gauges as { status: string; gauges: SummaryInputs["gauges"]; prefix_cache?: SummaryInputs["prefixCache"] } | undefined;
  const inputs: SummaryInputs = {
    labels: labelsOf(template),
    goodput: (template.goodput_slo_ms as GoodputSlo | undefined) ?? null,
    steadyWindowMs: steadyWindow(set.included),
    gauges: gauges?.gauges ?? {},
    // shard 0 read the server's counters over the whole start-to-end window: every shard's traffic
    prefixCache: gauges?.prefix_cache ?? null,
  };
  const point = summarizePoint(requests, inputs);
  const thresholds = checkThresholds(options.thresholds ?? [], point.row);
  const starts = set.included.map((folder) => folder.file.actual_start_ms === null ? null : folder.file.actual_start_ms - offsetOf(folder)).filter((at): at is number => at !== null);
  const startSpreadMs = starts.length > 0 ? Math.max(...starts) - Math.min(...starts) : null;
  const clockOffsetsMs: Record<number, number> = {};
  for (const folder of set.included) if (folder.file.clock) clockOffsetsMs[folder.file.shard.index] = folder.file.clock.offset_ms;
  const leftOut = describeLeftOut(set);
  const numTurns = (template.workload as { turns?: number } | undefined)?.turns ?? (template.per_turn ? 2 : 1);
  const context: Record<string, unknown> = {};
  for (const key of ["system_prompt_tokens", "dataset", "backend", "model", "base_url", "api_key", "llmbench", "workload"]) {
    if (template[key] !== undefined) context[key] = template[key];
  }
  ensureDir(options.outDir);
  writeSummaryFiles(
    options.outDir,
    summaryObject(point, inputs, {
      numTurns,
      serverGauges: gauges ?? { status: "not merged: shard 0 (the one that reads /metrics) is not among the merged shards", gauges: {} },
      rest: {
        ...(thresholds.length > 0 ? { thresholds, thresholds_ok: thresholds.every((t) => t.ok) } : {}),
        ...context,
        ...options.context,
        connect_ms: connectSummary(connectMs),
        preconnect: mergedPreconnect(set.included.map((folder) => readSummaryOf(folder).preconnect as PreconnectReport | null | undefined)),
        host: [...new Set(set.included.map((folder) => folder.file.host))].join(","),
        merged: {
          plan_hash: set.planHash,
          shard_count: set.count,
          shards: set.included.map((folder) => ({ index: folder.file.shard.index, dir: folder.dir, host: folder.file.host, records: folder.file.counts.records, planned_start_ms: folder.file.planned_start_ms, actual_start_ms: folder.file.actual_start_ms, clock_offset_ms: folder.file.clock?.offset_ms ?? null, clock_rtt_ms: folder.file.clock?.rtt_ms ?? null })),
          // timestamps of each shard were moved onto shard 0's clock by its offset before the timeline was built
          clock_offsets_ms: clockOffsetsMs,
          start_spread_ms: startSpreadMs,
          partial: leftOut !== null,
          ...(leftOut !== null ? { left_out: leftOut, missing: set.missing, unfinished: set.unfinished.map((folder) => folder.file.shard.index) } : {}),
        },
        interrupted: set.included.some((folder) => folder.file.exit_reason === "interrupted"),
      },
    }),
    [point.row],
  );
  return { set, point, leftOut, startSpreadMs, clockOffsetsMs, outDir: options.outDir, gauges, requests, thresholds };
}

/** The shards' preconnecting as one: connections summed, the longest time; null when none preconnected. */
function mergedPreconnect(reports: (PreconnectReport | null | undefined)[]): PreconnectReport | null {
  const present = reports.filter((report): report is PreconnectReport => report !== null && report !== undefined);
  if (present.length === 0) return null;
  if (present.length === 1) return present[0]!;
  const errors = present.map((report) => report.error).filter((error) => error !== undefined);
  return {
    connections: present.reduce((sum, report) => sum + report.connections, 0),
    rate_per_s: present[0]!.rate_per_s,
    ms: Math.max(...present.map((report) => report.ms)),
    ...(errors.length > 0 ? { error: errors.join("; ") } : {}),
  };
}

async function readRecords(folder: SourcedFolder, into: RequestStats[], connectMs: (number | null)[]): Promise<void> {
  const path = folder.source.pathOf("requests.jsonl");
  const index = folder.file.shard.index;
  const offset = offsetOf(folder);
  let line = 0;
  let count = 0;
  for await (const text of folder.source.lines("requests.jsonl")) {
    line++;
    if (text.trim() === "") continue;
    let record: RequestRecord & { shard?: number };
    try {
      record = JSON.parse(text);
    } catch {
      throw new UsageError(`merge: ${path} line ${line}: not a JSON record`);
    }
    if (record.shard !== index) throw new UsageError(`merge: ${path} line ${line}: a record of shard ${String(record.shard)} in the folder of shard ${index}/${folder.file.shard.count}`);
    const stats = statsOf(record);
    if (offset !== 0) {
      stats.sendMs -= offset;
      stats.doneMs -= offset;
    }
    into.push(stats);
    if (record.sent) connectMs.push(record.connect_ms ?? null);
    count++;
  }
  if (count !== folder.file.counts.records) {
    throw new UsageError(`merge: ${path}: ${count} records, but its shard.json counts ${folder.file.counts.records}`);
  }
}

async function readSummary(folder: SourcedFolder): Promise<Record<string, unknown>> {
  const path = folder.source.pathOf("summary.json");
  const text = await folder.source.readText("summary.json");
  if (text === null) throw new UsageError(`merge: ${path}: cannot be read as JSON (no such file)`);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new UsageError(`merge: ${path}: cannot be read as JSON (${(error as Error).message})`);
  }
}

function labelsOf(summary: Record<string, unknown>): PointLabels {
  const rate = summary.request_rate;
  return {
    modelSize: String(summary["model_size(B)"] ?? ""),
    tp: Number(summary.tp ?? 1),
    numClients: (summary.num_clients as number | string | undefined) ?? "",
    mode: String(summary.mode ?? ""),
    requestRate: rate === "inf" ? Infinity : typeof rate === "number" ? rate : null,
  };
}

/** The window in which every merged shard was past its ramp-up and not yet stopped. */
function steadyWindow(folders: ShardFolder[]): [number, number] {
  let from = -Infinity;
  let to = Infinity;
  for (const folder of folders) {
    const window = folder.file.steady_window_ms;
    if (!window) continue;
    from = Math.max(from, window[0] - offsetOf(folder));
    to = Math.min(to, window[1] - offsetOf(folder));
  }
  if (!Number.isFinite(from) || !Number.isFinite(to)) return [0, 0];
  return [from, to];
}

/** The shard's clock minus shard 0's, as measured at the rendezvous (0 without one). */
function offsetOf(folder: ShardFolder): number {
  return folder.file.clock?.offset_ms ?? 0;
}
