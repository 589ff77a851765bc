/**
 * No orphan, ever. A launched server lives in a process group of its own, so that stopping it
 * reaches everything it started; but if llmbench dies by SIGKILL or a crash nothing would stop it
 * (Bun has no parent-death signal). So llmbench re-executes itself as a small watchdog, in a
 * session of its own (a Ctrl-C or a kill of llmbench's group does not reach it), holding the read
 * end of a pipe: EOF without a "release" first means llmbench is gone, and the watchdog stops the
 * server's group (SIGTERM, then SIGKILL after the grace period) and exits.
 */
import { isGroupAlive, stopProcessGroup } from "./process-group.ts";
import { llmbenchCommand } from "./self-command.ts";

/** argv[2] of the hidden watchdog invocation; not a command users see. */
export const WATCHDOG_ARG = "__server-watchdog";
const RELEASE = "release\n";

export interface Watchdog {
  /** llmbench stopped the server itself (or leaves it running on purpose): the watchdog exits without a signal. */
  release(): void;
}

/** Starts the watchdog over the server's group `pgid`; null when it cannot be started (the run goes on without it). */
export function startWatchdog(pgid: number, graceS: number): Watchdog | null {
  let child: Bun.Subprocess<"pipe", "ignore", "inherit">;
  try {
    child = Bun.spawn([...llmbenchCommand(), WATCHDOG_ARG, String(pgid), String(graceS)], {
      stdin: "pipe",
      stdout: "ignore",
      stderr: "inherit",
      detached: true,
      env: { ...process.env, NO_COLOR: "1" },
    });
  } catch {
    return null;
  }
  child.unref();
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        child.stdin.write(RELEASE);
        void child.stdin.end();
      } catch {
        // it is gone already
      }
    },
  };
}

/** The watchdog process itself: `llmbench __server-watchdog <pgid> <graceS>`. Never returns. */
export async function runWatchdog(args: string[]): Promise<never> {
  const pgid = Number(args[0]);
  const graceS = Number(args[1] ?? 10);
  // Signals meant for llmbench (Ctrl-C in its terminal, a SIGTERM to its group) are not for the guard.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => {});
  let input = "";
  const decoder = new TextDecoder();
  try {
    for await (const chunk of Bun.stdin.stream()) {
      input += decoder.decode(chunk, { stream: true });
      if (input.includes(RELEASE)) process.exit(0);
    }
  } catch {
    // a read error is the same as EOF: the parent is gone
  }
  if (Number.isInteger(pgid) && pgid > 1 && isGroupAlive(pgid)) {
    console.error(`llmbench watchdog: llmbench ended without stopping its server; stopping the server's process group ${pgid}`);
    await stopProcessGroup(pgid, Number.isFinite(graceS) ? graceS : 10);
  }
  process.exit(0);
}
