/**
 * The thread that reads the sockets comes first. Bun runs our JS on one thread and compiles it on
 * others (JSC's "JITWorker" threads). On a client with one core (taskset, a container's CPU
 * limit) a compile that is running when a read is due keeps the core for the rest of its slice; on
 * 200 streams × 5 ms per token the first second's inter-token gaps carried up to 10–17 ms of such
 * waits (bench/client-cpu.ts itl). At nice 19 a compiler runs while the main thread waits, and
 * gives way as soon as it wakes; the main thread never waits for a compile (it runs the slower
 * tier meanwhile).
 *
 * Only the compilers: the garbage collector's threads (its collector and "HeapHelper" markers)
 * stay as they are, because the main thread waits for them during a collection's pauses. Lowered
 * on a busy machine, they would stretch every pause (a priority inversion: with every helper
 * lowered and two busy loops on a 2-core machine, tests/backends.e2e saw a 24-token stream's last
 * tokens ~100 ms late).
 *
 * Linux lets a process lower any of its own threads' priority (setpriority on a thread id);
 * compilers start and stop (JSC ends an idle one, and starts another at nice 0 later), so the
 * threads are looked at again every second while a point runs. Elsewhere, nothing happens.
 */
import { readdirSync, readFileSync } from "node:fs";
import { libcFunctions } from "./libc.ts";

const HELPER_NICE = 19;
/** JSC's compiler threads, by the name they give themselves (/proc/self/task/TID/comm). */
const COMPILER_THREAD = /^JITWorker/;
const PRIO_PROCESS = 0;
const RECHECK_MS = 1000;

type SetPriority = (which: number, who: number, priority: number) => number;
let setPriority: SetPriority | null | undefined;
const yielded = new Set<number>();
let users = 0;
let timer: ReturnType<typeof setInterval> | null = null;

function lowerCompilers(): void {
  let tids: string[];
  try {
    tids = readdirSync("/proc/self/task");
  } catch {
    return;
  }
  for (const name of tids) {
    const tid = Number(name);
    if (tid === process.pid || yielded.has(tid)) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/self/task/${name}/comm`, "utf8");
    } catch {
      continue; // gone
    }
    if (!COMPILER_THREAD.test(comm)) continue; // looked at again next time: a thread names itself once it runs
    yielded.add(tid);
    setPriority!(PRIO_PROCESS, tid, HELPER_NICE);
  }
}

/** Lowers the compiler threads now and for as long as the returned function has not been called. */
export function keepCompilersBehind(): () => void {
  if (setPriority === undefined) {
    const libc = process.platform === "linux" ? libcFunctions({ setpriority: { args: ["i32", "i32", "i32"], returns: "i32" } }) : null;
    setPriority = libc === null ? null : (libc.setpriority as SetPriority);
  }
  if (setPriority === null) return () => {};
  lowerCompilers();
  if (users++ === 0) {
    timer = setInterval(lowerCompilers, RECHECK_MS);
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
