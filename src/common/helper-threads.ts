/**
 * The thread that reads the sockets comes first. Bun runs our JS on one thread and keeps helper
 * threads beside it: the JIT's compilers, the GC's markers, a pool for files. On a client with
 * one core (taskset, a container's CPU limit) a compile that is running when a read is due keeps
 * the core for the rest of its slice; on 200 streams × 5 ms per token the first second's
 * inter-token gaps carried up to 10–17 ms of such waits (bench/client-cpu.ts itl). At nice 19 a
 * helper runs while the main thread waits, and gives way as soon as it wakes.
 *
 * Linux lets a process lower any of its own threads' priority (setpriority on a thread id);
 * helpers start and stop (JSC ends an idle compiler thread, and starts another at nice 0 later),
 * so the threads are looked at again every second while a point runs. Elsewhere, nothing happens.
 */
import { readdirSync } from "node:fs";
import { libcFunctions } from "./libc.ts";

const HELPER_NICE = 19;
const PRIO_PROCESS = 0;
const RECHECK_MS = 1000;

type SetPriority = (which: number, who: number, priority: number) => number;
let setPriority: SetPriority | null | undefined;
const yielded = new Set<number>();
let users = 0;
let timer: ReturnType<typeof setInterval> | null = null;

function lowerHelpers(): void {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return;
  }
  for (const name of tids) {
    const tid = Number(name);
    if (tid === process.pid || yielded.has(tid)) continue;
    yielded.add(tid); // once, whether it worked or not: a thread that is gone now cannot be set
    setPriority!(PRIO_PROCESS, tid, HELPER_NICE);
  }
}

/** Lowers the helper threads now and for as long as the returned function has not been called. */
export function keepHelpersBehind(): () => void {
  if (setPriority === undefined) {
    const libc = process.platform === "linux" ? libcFunctions({ setpriority: { args: ["i32", "i32", "i32"], returns: "i32" } }) : null;
    setPriority = libc === null ? null : (libc.setpriority as SetPriority);
  }
  if (setPriority === null) return () => {};
  lowerHelpers();
  if (users++ === 0) {
    timer = setInterval(lowerHelpers, RECHECK_MS);
    timer.unref();
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--users === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}
