import { existsSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { collectGarbage } from "../common/collect-garbage.ts";
import { sampleChunks } from "../metrics/registry.ts";
import { statsOf, type RequestStats } from "../metrics/request-stats.ts";
import { forEachLine } from "../records/file-lines.ts";
import type { RequestRecord } from "../records/record.ts";
import { consoleDistributions, relevantFor } from "./metric-views.ts";
import { looksSecret, redactArgv, REDACTED } from "../server/redact.ts";
import { eachTokenEvent, histogramOfChunks, timelineOf, type Histogram, type Timeline, type TimelineSpan } from "./plot-data.ts";

/** One summary as written (summary.json of a point, or a point's entry in a sweep's summary.json). */
export type SummaryObject = Record<string, unknown>;

export interface GaugeSeries {
  /** Seconds from the point's first send. */
  t: number[];
  values: Record<string, (number | null)[]>;
}

export interface PointPlots {
  /** Per registry distribution (TTFT, TPOT, …): its histogram, counting requests or (ITL) tokens. */
  histograms: Record<string, Histogram & { per: "request" | "token" }>;
  timeline: Timeline | null;
  /** Seconds from the first send: the ramp-up's end and the stop (the steady-state window between them). */
  steadyWindowS: [number, number] | null;
  gauges: GaugeSeries | null;
}

export interface ReportPoint {
  /** "clients=4", "rate=2.5": matches points across runs. */
  key: string;
  label: string;
  status: string;
  reason: string | null;
  /** Clients or requests/s; null for an infinite rate. */
  x: number | null;
  summary: SummaryObject | null;
  plots: PointPlots | null;
}

/** search.json of a capacity search, as written (src/sweep/search-runner.ts). */
export interface SearchReport {
  axis: "clients" | "rate";
  best: number | null;
  firstFail: number | null;
  resolution: number;
  slo: string;
  min_goodput_ratio: number | null;
  note: string;
  points: Array<{ value: number; run: number; phase: string; pass: boolean; failed: string[]; metrics: Record<string, number | null>; folder?: string }>;
}

export interface ReportRun {
  dir: string;
  name: string;
  kind: "sweep" | "run";
  xAxis: "clients" | "rate";
  /** run.json (sweeps) or the context keys of summary.json (runs), secrets redacted. */
  identity: Record<string, unknown>;
  /** config.resolved.json, secrets redacted; null for `llmbench run` folders. */
  settings: Record<string, unknown> | null;
  points: ReportPoint[];
  /** The capacity search's search.json, when the sweep was one. */
  search?: SearchReport | null;
}

/**
 * Reads a run folder (`llmbench run`'s result dir or a sweep's run folder) as it was written.
 * `measured`: the stats of a `llmbench run` folder's requests, as the run that just wrote them holds
 * them, in place of reading them back from its requests.jsonl (the same stats: a record read back
 * gives its measured stats); the timeline still reads the file for the token events.
 */
export function loadRun(dir: string, measured?: readonly RequestStats[]): ReportRun {
  const absolute = resolve(dir);
  const summaryPath = join(absolute, "summary.json");
  if (!existsSync(summaryPath)) throw new Error(`${dir}: no summary.json (not an llmbench run folder)`);
  const summary = readJson(summaryPath) as SummaryObject;
  return Array.isArray(summary.points) ? loadSweep(absolute, summary) : loadSingle(absolute, summary, measured);
}

function loadSweep(dir: string, sweep: SummaryObject): ReportRun {
  const entries = sweep.points as SummaryObject[];
  const points = entries.map((entry): ReportPoint => {
    const key = String(entry.point);
    const folder = join(dir, String(entry.folder));
    const pointSummaryPath = join(folder, "summary.json");
    const ran = entry.status !== "not run" && entry.status !== "pending";
    const summary = ran ? (existsSync(pointSummaryPath) ? (readJson(pointSummaryPath) as SummaryObject) : entry) : null;
    return {
      key,
      label: labelOf(key),
      status: String(entry.status),
      reason: (entry.reason as string | null) ?? null,
      x: xOf(key),
      summary,
      plots: summary ? plotsOf(folder, summary) : null,
    };
  });
  const runInfoPath = join(dir, "run.json");
  const configPath = join(dir, "config.resolved.json");
  const { points: _points, ...context } = sweep;
  const settings = existsSync(configPath) ? (redact(readJson(configPath)) as Record<string, unknown>) : null;
  const dataset = (settings?.dataset as { path?: string } | undefined)?.path;
  const identity = { ...context, ...(dataset ? { dataset } : {}), ...(existsSync(runInfoPath) ? (readJson(runInfoPath) as object) : {}) };
  const searchPath = join(dir, "search.json");
  const search = existsSync(searchPath) ? (readJson(searchPath) as SearchReport) : null;
  return {
    dir,
    name: String(sweep.run ?? basename(dir)),
    kind: "sweep",
    search,
    xAxis: points.some((p) => p.key.startsWith("rate=")) ? "rate" : "clients",
    identity: redact(identity) as Record<string, unknown>,
    settings,
    points,
  };
}

const CONTEXT_KEYS = ["backend", "model", "base_url", "api_key", "llmbench", "host", "model_size(B)", "tp", "mode", "num_clients", "request_rate", "goodput_slo_ms", "system_prompt_tokens", "interrupted", "workload"];

function loadSingle(dir: string, summary: SummaryObject, measured?: readonly RequestStats[]): ReportRun {
  const rate = summary.request_rate;
  const key = rate === null || rate === undefined || rate === "" ? `clients=${summary.num_clients}` : `rate=${rate}`;
  const identity: Record<string, unknown> = {};
  for (const name of CONTEXT_KEYS) if (summary[name] !== undefined && summary[name] !== null && summary[name] !== "") identity[name] = summary[name];
  return {
    dir,
    name: basename(dir),
    kind: "run",
    xAxis: key.startsWith("rate=") ? "rate" : "clients",
    identity: redact(identity) as Record<string, unknown>,
    settings: null,
    points: [
      {
        key,
        label: labelOf(key),
        status: summary.interrupted ? "cut short" : "done",
        reason: summary.interrupted ? "interrupted" : null,
        x: xOf(key),
        summary,
        plots: plotsOf(dir, summary, measured),
      },
    ],
  };
}

/** Histograms (of the registry's distributions) and the timeline from the point's requests.jsonl; gauges from its summary. */
function plotsOf(folder: string, summary: SummaryObject, measured?: readonly RequestStats[]): PointPlots {
  const path = join(folder, "requests.jsonl");
  const { stats, spans } = measured ? { stats: measured, spans: measured.map(spanOf) } : readRecords(path);
  if (!measured) collectGarbage(); // each record parsed, every token event as a pair: freed before the next read parses them all again
  const histograms: PointPlots["histograms"] = {};
  for (const metric of consoleDistributions()) {
    if (!metric.sample || !relevantFor(metric, [summary])) continue;
    const perToken = stats.some((r) => r.ok && typeof metric.sample!.value(r) === "object" && metric.sample!.value(r) !== null);
    histograms[metric.name] = { ...histogramOfChunks(sampleChunks(metric, stats)), per: perToken ? "token" : "request" };
  }
  const line = timelineOf(spans, (add) => eachRecord(path, (record) => {
    if (record.sent) eachTokenEvent(record.events, record.send_ms, add);
  }));
  collectGarbage();
  const window = summary.steady_window_ms as [number, number] | undefined;
  const steadyWindowS: [number, number] | null =
    line && Array.isArray(window) ? [(window[0] - line.startMs) / 1000, (window[1] - line.startMs) / 1000] : null;
  return { histograms, timeline: line, steadyWindowS, gauges: gaugeSeries(summary, line?.startMs ?? null) };
}

/**
 * Each record's stats and what the timeline needs of it but its token events (a second read hands
 * those to the timeline): read a line at a time, so that the records (every token event of the
 * point, as parsed JSON) are never all in memory at once, nor their events in any form.
 */
function readRecords(path: string): { stats: readonly RequestStats[]; spans: TimelineSpan[] } {
  const stats: RequestStats[] = [];
  const spans: TimelineSpan[] = [];
  eachRecord(path, (record) => {
    stats.push(statsOf(record));
    spans.push({ sent: record.sent, send_ms: record.send_ms, done_ms: record.done_ms, status: record.status, ttft_ms: record.ttft_ms });
  });
  return { stats, spans };
}

/** What the timeline needs of a request, from its stats (as readRecords takes it from its record). */
function spanOf(stats: RequestStats): TimelineSpan {
  return { sent: stats.sent, send_ms: stats.sendMs, done_ms: stats.doneMs, status: stats.ok ? "ok" : "failed", ttft_ms: stats.ttft };
}

/** Each parseable record of a requests.jsonl, in order (none when there is no file). */
function eachRecord(path: string, onRecord: (record: RequestRecord) => void): void {
  if (!existsSync(path)) return;
  forEachLine(path, (line) => {
    if (!line.trim()) return;
    let record: RequestRecord;
    try {
      record = JSON.parse(line) as RequestRecord;
    } catch {
      return; // A line cut by a crash: the records before it still count.
    }
    onRecord(record);
  });
}

function gaugeSeries(summary: SummaryObject, startMs: number | null): GaugeSeries | null {
  const report = summary.server_gauges as { series?: { at_ms: number[]; values: Record<string, (number | null)[]> } } | undefined;
  const series = report?.series;
  if (!series || series.at_ms.length === 0) return null;
  const origin = startMs ?? series.at_ms[0]!;
  return { t: series.at_ms.map((at) => (at - origin) / 1000), values: series.values };
}

export function labelOf(key: string): string {
  const [kind, value] = key.split("=");
  if (kind === "clients") return `${value} client${value === "1" ? "" : "s"}`;
  if (kind === "rate") return `${value} req/s`;
  return key;
}

function xOf(key: string): number | null {
  const value = Number.parseFloat(key.split("=")[1] ?? ""); // "clients=4,isl=1024" is at 4 clients
  return Number.isFinite(value) ? value : null;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
}

/** Secret-looking keys' values and secret-looking options in argv arrays replaced, at any depth. */
export function redact(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.every((item) => typeof item === "string") ? redactArgv(value as string[]) : value.map(redact);
  }
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, looksSecret(key) && !/Env$/.test(key) && typeof item === "string" && !describesKeySource(item) ? REDACTED : redact(item)]),
    );
  }
  return value;
}

/** summary.json's api_key says where a key came from ("from $X (redacted)", "none"), never the key. */
function describesKeySource(text: string): boolean {
  return text === "none" || text === REDACTED || /^from \$\w+ \(redacted\)$/.test(text) || /^none \(\$\w+ is not set\)$/.test(text);
}
