import { accessSync, appendFileSync, closeSync, constants, openSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { ResolvedLaunch } from "../config/bench-config.ts";
import { UsageError } from "../config/usage-error.ts";
import { scrub } from "../records/scrub.ts";
import { formatArgv, redactArgv } from "./redact.ts";

export interface ExitInfo {
  code: number | null;
  signal: string | null;
}

export interface LaunchedProcess {
  /** Also the id of its process group. */
  pid: number;
  exited: Promise<ExitInfo>;
  /** Lets llmbench exit while the server keeps running (`server start`). */
  detach(): void;
}

/**
 * Starts the server from its argv (no shell) in a process group of its own, its stdout and
 * stderr going straight into `logPath` (so the log stays complete even if llmbench dies).
 * `commandField` names the config field in the error when the program cannot be started.
 */
export function launchProcess(launch: ResolvedLaunch, logPath: string, commandField: string): LaunchedProcess {
  appendFileSync(logPath, scrub(`# ${new Date().toISOString()} llmbench launched (cwd ${launch.cwd}): ${formatArgv(redactArgv(launch.command))}\n`));
  const fd = openSync(logPath, "a");
  let child;
  try {
    child = Bun.spawn(launch.command, {
      cwd: launch.cwd,
      env: { ...process.env, ...launch.env },
      stdin: "ignore",
      stdout: fd,
      stderr: fd,
      detached: true,
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === "ENOENT" ? "no such program (not found, or not on PATH)" : (error as Error).message;
    throw new UsageError(`${commandField}[0]: cannot start ${JSON.stringify(launch.command[0])}: ${reason}`);
  } finally {
    closeSync(fd);
  }
  const spawned = child;
  return {
    pid: spawned.pid,
    exited: spawned.exited.then(() => ({ code: spawned.exitCode, signal: spawned.signalCode === null ? null : String(spawned.signalCode) })),
    detach: () => spawned.unref(),
  };
}

/**
 * That the launch program exists and may be executed, checked before anything is launched or
 * archived (the same UsageError launchProcess would throw, earlier): a program name is looked up
 * on the PATH the server gets, a path relative to the launch's cwd.
 */
export function assertProgramExists(launch: ResolvedLaunch, commandField: string): void {
  const program = launch.command[0]!;
  const path = program.includes("/") ? resolve(launch.cwd, program) : Bun.which(program, { PATH: launch.env.PATH ?? process.env.PATH ?? "", cwd: launch.cwd });
  const problem = (() => {
    if (!path) return "no such program (not found, or not on PATH)";
    try {
      if (statSync(path).isDirectory()) return `${path} is a directory`;
      accessSync(path, constants.X_OK);
      return null;
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such program (not found, or not on PATH)" : `${path} is not executable`;
    }
  })();
  if (problem) throw new UsageError(`${commandField}[0]: cannot start ${JSON.stringify(program)}: ${problem}`);
}

export function describeExit(exit: ExitInfo): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}
