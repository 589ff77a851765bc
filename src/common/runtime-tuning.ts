/**
 * Allocator settings for the commands that measure: Bun allocates with mimalloc, whose scavenger
 * thread hands freed pages back to the kernel ("purge") soon after they are freed. A client
 * streaming tokens frees and reuses the same buffers all the time, so every purge comes back as
 * page faults and madvise calls: on a 64-stream burst load that was a third of the client's CPU
 * (bench/workers.ts; `perf record` showed exc_page_fault and __madvise). With purging off, freed
 * pages stay mapped and are reused; peak RSS is what it was.
 *
 * The JavaScript heap, too: Bun lets JSC's heap grow to about three times what survives a
 * collection on a machine with 16 GB or more (twice below that) before it collects again, so a
 * client holding 10,000 streams carried ~150 MB of live heap and as much again of garbage, most
 * at the end of the point, when every request finishes at once. JSC sizes that allowance by the
 * RAM it believes the machine has: told 128 MB (BUN_JSC_forceRAMSize), it grows the heap by a
 * factor set by the heap's size, as on a small machine: twice below 32 MB, by half below 64 MB,
 * by a quarter beyond, wherever it runs. With purging off, RSS keeps the highest the heap ever
 * reached, so its allowance is paid for whole: at 10,000 streams (bench/client-cpu.ts rss, ~90 MB
 * live heap) 128 MB kept streaming at 248-264 MB RSS over 6 runs where 256 MB (a half, 1.5 times
 * the live heap) gave 263-341; CPU per token at 200 and 1,000 streams did not change (within 0.4 µs).
 * Before any of this the whole run had reached 800-850 MB.
 *
 * mimalloc and JSC read their options from the environment once, at process start, and the binary exports
 * no function to change them later: so, when they are not set yet, the process replaces itself
 * (execve, same PID, same open files and arguments) with the settings in its environment. Where
 * execve is not at hand (no libc found, not Linux, running from source), nothing changes.
 */
import { libcFunctions } from "./libc.ts";

/** Set in the environment of the re-executed process, so that it knows (and launched servers don't inherit our tuning). */
const TUNED_MARK = "LLMBENCH_RUNTIME_TUNED";
export const RUNTIME_ENV: Readonly<Record<string, string>> = { MIMALLOC_PURGE_DELAY: "-1", BUN_JSC_forceRAMSize: String(128 * 1024 * 1024) };

/** The environment for a process of this binary we start ourselves (a point worker): tuned already, no re-exec. */
export function tunedChildEnv(base: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = { ...(base as Record<string, string>), [TUNED_MARK]: "1" };
  for (const [name, value] of Object.entries(RUNTIME_ENV)) {
    if (env[name] !== undefined) continue;
    env[name] = value;
    env[`${TUNED_MARK}_${name}`] = "1";
  }
  return env;
}

/**
 * Re-executes this binary with RUNTIME_ENV when the environment lacks it; returns when it is
 * already there (or cannot be set), having removed our own marks from process.env so that
 * processes we start later (servers, tools) see the user's environment.
 */
export async function tuneRuntime(isCompiled: boolean): Promise<void> {
  if (process.env[TUNED_MARK] === "1") {
    delete process.env[TUNED_MARK];
    for (const name of Object.keys(RUNTIME_ENV)) if (process.env[`${TUNED_MARK}_${name}`] === "1") {
      delete process.env[name];
      delete process.env[`${TUNED_MARK}_${name}`];
    }
    return;
  }
  if (!isCompiled || process.platform !== "linux") return;
  if (Object.keys(RUNTIME_ENV).every((name) => process.env[name] !== undefined)) return; // the user's own settings win
  await execve(process.execPath, [process.execPath, ...process.argv.slice(2)], tunedChildEnv());
}

/** Replaces the process image; returns only if that could not be done. */
async function execve(path: string, argv: string[], env: Record<string, string>): Promise<void> {
  const libc = libcFunctions({ execve: { args: ["ptr", "ptr", "ptr"], returns: "i32" } });
  if (libc === null) return;
  const { ptr } = await import("bun:ffi");
  const keep: Buffer[] = [];
  const cString = (text: string) => {
    const bytes = Buffer.from(`${text}\0`, "utf8");
    keep.push(bytes);
    return ptr(bytes);
  };
  const pointers = (items: string[]) => {
    const table = new BigUint64Array(items.length + 1);
    items.forEach((item, index) => (table[index] = BigInt(cString(item))));
    keep.push(Buffer.from(table.buffer));
    return ptr(table);
  };
  const envp = Object.entries(env).map(([name, value]) => `${name}=${value}`);
  (libc.execve as (path: unknown, argv: unknown, envp: unknown) => number)(cString(path), pointers(argv), pointers(envp)); // returns only on failure
}
