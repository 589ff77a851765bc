import { closeSync, existsSync, openSync, readdirSync, readSync, statfsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Finding } from "../finding.ts";
import type { DoctorPlan } from "../plan.ts";

/**
 * requests.jsonl bytes per output token when no records file is at hand: measured from a run of
 * 64 requests × 512 tokens against `llmbench mock` (735,911 bytes / 32,768 tokens = 22.5 B; about
 * 380 B per record besides). Real servers' token times have more digits: the margin covers them.
 */
export const DEFAULT_BYTES_PER_TOKEN = 24;
export const BYTES_PER_RECORD = 400;
/** Output tokens assumed per request when neither the config nor the dataset says. */
export const ASSUMED_OUTPUT_TOKENS = 1024;

export interface RecordsSize {
  bytesPerToken: number;
  /** The records file it was measured from; null for the built-in figure. */
  measuredFrom: string | null;
}

export interface DiskFacts {
  /** The folder whose file system was measured (the output folder, or its nearest existing parent). */
  dir: string;
  freeBytes: number | null;
  records: RecordsSize;
}

/** Bytes per output token of the newest requests.jsonl under `root` (its first 4 MB), else the built-in figure. */
export function measureRecordsSize(root: string): RecordsSize {
  const newest = newestRecordsFile(root, 4);
  if (newest !== null) {
    const fd = openSync(newest, "r");
    const buffer = Buffer.alloc(4 * 1024 * 1024);
    const length = readSync(fd, buffer, 0, buffer.length, 0);
    closeSync(fd);
    const text = buffer.toString("utf8", 0, length);
    const complete = text.slice(0, text.lastIndexOf("\n") + 1);
    let tokens = 0;
    for (const line of complete.split("\n")) {
      if (line === "") continue;
      try {
        tokens += Number((JSON.parse(line) as { out_tokens?: number }).out_tokens) || 0;
      } catch {
        // a line cut by a crash is no sample
      }
    }
    if (tokens >= 100) return { bytesPerToken: Buffer.byteLength(complete) / tokens, measuredFrom: newest };
  }
  return { bytesPerToken: DEFAULT_BYTES_PER_TOKEN, measuredFrom: null };
}

function newestRecordsFile(dir: string, depth: number): string | null {
  let best: { path: string; mtime: number } | null = null;
  const visit = (folder: string, level: number) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(folder, entry.name);
      if (entry.isFile() && entry.name === "requests.jsonl") {
        const mtime = statSync(path).mtimeMs;
        if (best === null || mtime > best.mtime) best = { path, mtime };
      } else if (entry.isDirectory() && level < depth) visit(path, level + 1);
    }
  };
  visit(dir, 0);
  return (best as { path: string } | null)?.path ?? null;
}

export function readDisk(outputDir: string): DiskFacts {
  let dir = outputDir;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  let freeBytes: number | null = null;
  try {
    const stats = statfsSync(dir);
    freeBytes = stats.bavail * stats.bsize;
  } catch {
    freeBytes = null;
  }
  return { dir, freeBytes, records: measureRecordsSize(outputDir) };
}

const gb = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : `${(bytes / 1e6).toFixed(1)} MB`);

/** Bytes the sweep's records take: every request's line, with its per-token events. */
export function estimateRecordsBytes(requests: number, tokensPerRequest: number, bytesPerToken: number): number {
  return requests * (BYTES_PER_RECORD + tokensPerRequest * bytesPerToken);
}

export function judgeDisk(facts: DiskFacts, plan: DoctorPlan, tokensPerRequest: { tokens: number; source: string }): Finding {
  const measured = facts.records.measuredFrom === null ? "built-in figure" : `measured from ${facts.records.measuredFrom}`;
  const perToken = `${facts.records.bytesPerToken.toFixed(1)} B per token (${measured})`;
  if (facts.freeBytes === null) return { check: "disk", status: "skip", detail: `cannot measure free space of ${facts.dir}`, fix: null };
  const free = `${gb(facts.freeBytes)} free in ${facts.dir}`;
  if (plan.plannedRequests === null) {
    return { check: "disk", status: "ok", detail: `${free}; no request budget bounds the records (only time does); they take ${perToken}`, fix: null };
  }
  const bytes = estimateRecordsBytes(plan.plannedRequests, tokensPerRequest.tokens, facts.records.bytesPerToken);
  const need = `${plan.plannedRequests} requests × ${tokensPerRequest.tokens} tokens (${tokensPerRequest.source}) at ${perToken} ≈ ${gb(bytes)}`;
  const fix = `free space there, or point output.dir (sweep --output-dir, run --result-dir) at a larger disk`;
  if (facts.freeBytes < bytes) return { check: "disk", status: "fail", detail: `${free} < records ${need}: the run would stop on a full disk`, fix };
  if (facts.freeBytes < 2 * bytes) return { check: "disk", status: "warn", detail: `${free}, records ${need}: less than twice what they need`, fix };
  return { check: "disk", status: "ok", detail: `${free}; records ${need}`, fix: null };
}
