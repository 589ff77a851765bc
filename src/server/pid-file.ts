import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { safeName, writeFileAtomic } from "../archive/result-files.ts";
import { isProcessAlive, procStat } from "./process-group.ts";

/** What `server start` leaves behind so that `server stop`, `server status` and `sweep` find the server. */
export interface ServerRecord {
  /** The server's pid, which is also its process group id. */
  pid: number;
  /** When the process started (clock ticks since boot, Linux), so a reused pid is not mistaken for it. */
  startTicks: string | null;
  url: string;
  backend: string;
  model: string;
  /** The argv it was launched with, secrets redacted. */
  command: string[];
  log: string;
  config: string;
  startedAt: string;
}

/** `<output>/servers/<backend>.json` (the log beside it): one recorded server per backend and output folder. */
export function serverRecordPath(outputDir: string, backend: string): string {
  return join(outputDir, "servers", `${safeName(backend)}.json`);
}

export function serverLogPath(outputDir: string, backend: string): string {
  return join(outputDir, "servers", `${safeName(backend)}.log`);
}

export function readServerRecord(path: string): ServerRecord | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as ServerRecord;
  } catch {
    return null;
  }
}

export function writeServerRecord(path: string, record: ServerRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, JSON.stringify(record, null, 2) + "\n");
}

export function removeServerRecord(path: string): void {
  rmSync(path, { force: true });
}

/** The recorded process is alive and is the one that was started (not another that got its pid). */
export function isRecordedServerRunning(record: ServerRecord): boolean {
  if (!isProcessAlive(record.pid)) return false;
  const ticks = processStartTicks(record.pid);
  return ticks === null || record.startTicks === null || ticks === record.startTicks;
}

/** Field 22 of /proc/<pid>/stat; null where there is no /proc. */
export function processStartTicks(pid: number): string | null {
  return procStat(pid)?.[19] ?? null;
}
