/**
 * A launched server runs in its own process group (Bun.spawn with `detached`), so that stopping
 * it reaches every process it started too: SIGTERM to the group, then SIGKILL after a grace period.
 */

import { readdirSync, readFileSync } from "node:fs";

export type StopOutcome = "not running" | "terminated" | "killed";

/**
 * Whether any process of the group is still running. A process that has exited but not yet been
 * reaped (a zombie: the group's orphans wait for init to reap them) still answers kill(0), so
 * where /proc exists the group's members are looked at directly.
 */
export function isGroupAlive(pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false;
  const members = runningGroupMembers(pgid);
  return members === null || members > 0;
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const state = procStat(pid)?.[0];
  return state !== "Z" && state !== "X";
}

/** Fields 3.. of /proc/<pid>/stat (state, ppid, pgrp, ...); null without /proc or once the process is gone. */
export function procStat(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may contain spaces and parentheses: fields are counted after its last ")".
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return null;
  }
}

/** How many processes of the group are not zombies; null where there is no /proc. */
function runningGroupMembers(pgid: number): number | null {
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return null;
  }
  let running = 0;
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = procStat(entry);
    if (fields && Number(fields[2]) === pgid && fields[0] !== "Z" && fields[0] !== "X") running++;
  }
  return running;
}

/** Sends `signal` to the whole group; false when no process of it is left. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** SIGTERM to the group, SIGKILL to whatever is left after `graceS`; resolves once the group is gone. */
export async function stopProcessGroup(pgid: number, graceS: number): Promise<StopOutcome> {
  if (!signalGroup(pgid, "SIGTERM")) return "not running";
  if (await waitForGroupExit(pgid, graceS * 1000)) return "terminated";
  signalGroup(pgid, "SIGKILL");
  await waitForGroupExit(pgid, 5000);
  return "killed";
}

/** SIGKILL at once: for a second Ctrl-C, when the user will not wait for a graceful stop. */
export function killProcessGroup(pgid: number): void {
  signalGroup(pgid, "SIGKILL");
}

async function waitForGroupExit(pgid: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (isGroupAlive(pgid)) {
    if (performance.now() >= deadline) return false;
    await Bun.sleep(50);
  }
  return true;
}
