import { arch, cpus, hostname, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { processStartTicks } from "../server/pid-file.ts";
import { VERSION } from "../version.ts";
import { writeFileAtomic } from "./result-files.ts";

export type RunStatus = "running" | "completed" | "failed" | "interrupted" | "aborted";

/** run.json: what ran, where, when, and how it ended. */
export interface RunInfo {
  llmbench: string;
  bun: string;
  host: { name: string; os: string; cpus: number; memory_gb: number };
  command: string[];
  /** The llmbench process that runs it and its start time (/proc ticks): a run whose process is gone was aborted. */
  pid: number;
  pid_start: string | null;
  config: string;
  started_at: string;
  ended_at: string | null;
  status: RunStatus;
  exit_code: number | null;
  /** Why the run failed or was interrupted. */
  reason: string | null;
  server: Record<string, unknown> | null;
  points: { planned: number; done: number; cut_short: number; not_run: number };
}

export function newRunInfo(config: string, command: string[], startedAt: Date, planned: number): RunInfo {
  return {
    llmbench: VERSION,
    bun: Bun.version,
    host: {
      name: hostname(),
      os: `${platform()} ${release()} ${arch()}`,
      cpus: cpus().length,
      memory_gb: Math.round(totalmem() / 2 ** 30),
    },
    command,
    pid: process.pid,
    pid_start: processStartTicks(process.pid),
    config,
    started_at: startedAt.toISOString(),
    ended_at: null,
    status: "running",
    exit_code: null,
    reason: null,
    server: null,
    points: { planned, done: 0, cut_short: 0, not_run: 0 },
  };
}

export function writeRunInfo(dir: string, info: RunInfo): void {
  writeFileAtomic(join(dir, "run.json"), JSON.stringify(info, null, 2) + "\n");
}
