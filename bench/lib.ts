/** Shared by the bench scripts: the binary (or source) to run, a simulator on a free port, statistics. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");

/** `./llmbench` when built (what users run), else `bun src/cli.ts`; LLMBENCH_BIN names another build (a baseline). */
export function llmbench(...args: string[]): string[] {
  const bin = process.env.LLMBENCH_BIN ? resolve(process.env.LLMBENCH_BIN) : resolve(ROOT, "llmbench");
  return Bun.file(bin).size > 0 ? [bin, ...args] : [process.execPath, resolve(ROOT, "src/cli.ts"), ...args];
}

/**
 * Spawns a server that prints `listening on http://…` and resolves with its address once it has;
 * the rest of its stdout is left to `reader`.
 */
export async function spawnListening(argv: string[]) {
  const child = Bun.spawn(argv, { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${argv.slice(0, 3).join(" ")} did not start: ${seen}`);
    seen += decoder.decode(value);
    const url = /listening on (http:\/\/\S+)/.exec(seen)?.[1];
    if (url) return { child, reader, url };
  }
}

export async function startMock(args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const { child, reader, url } = await spawnListening(llmbench("mock", "--host", "127.0.0.1", "--port", "0", ...args));
  reader.releaseLock();
  return { url, stop: async () => void (child.kill("SIGTERM"), await child.exited) };
}

export async function runLlmbench(args: string[]): Promise<void> {
  const child = Bun.spawn(llmbench(...args), { stdout: "inherit", stderr: "inherit" });
  const code = await child.exited;
  if (code !== 0) throw new Error(`llmbench ${args.join(" ")} exited with ${code}`);
}

export function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (sorted.length - 1) * q;
  const lower = Math.floor(rank);
  return sorted[lower]! + (sorted[Math.ceil(rank)]! - sorted[lower]!) * (rank - lower);
}

export async function readJsonl<T>(path: string): Promise<T[]> {
  return (await Bun.file(path).text()).split("\n").filter(Boolean).map((line) => JSON.parse(line) as T);
}

/** min / median / max of a few runs' figures, for the bench reports. */
export function spread(values: number[], digits = 1): string {
  const sorted = [...values].sort((a, b) => a - b);
  const f = (v: number) => v.toFixed(digits);
  return `${f(sorted[0]!)} / ${f(quantile(sorted, 0.5))} / ${f(sorted.at(-1)!)}`;
}

export interface FakeServer {
  url: string;
  /** Names the client whose CPU time the server reads around the streaming (see fake-sse-server.ts). */
  watch(pid: number): void;
  /** Asks for the client's CPU series (see fake-sse-server.ts): tokens written, [epoch ms, cpu ns, user ticks, system ticks] samples from just before the first token. */
  cpu(): Promise<{ tokens: number; series: Array<[number, number, number, number]> }>;
  stop(): Promise<void>;
}

/** The bench's own fake SSE server, pinned to `cpu` (taskset) when given. */
export async function startFakeServer(options: { itlMs: number; tokens: number; truth: string; cpu?: number; backlog?: number; burst?: boolean }): Promise<FakeServer> {
  const argv = [process.execPath, resolve(import.meta.dir, "fake-sse-server.ts"), "--itl-ms", String(options.itlMs), "--tokens", String(options.tokens), "--truth", options.truth];
  if (options.backlog !== undefined) argv.push("--backlog", String(options.backlog));
  if (options.burst) argv.push("--burst", "1");
  const child = Bun.spawn(options.cpu === undefined ? argv : ["taskset", "-c", String(options.cpu), ...argv], { stdin: "pipe", stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  const decoder = new TextDecoder();
  let seen = "";
  const waiters: Array<(line: string) => void> = [];
  const lines: string[] = [];
  let url: string | null = null;
  let ready: (value: string) => void = () => {};
  const started = new Promise<string>((resolve) => (ready = resolve));
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      seen += decoder.decode(value);
      let newline: number;
      while ((newline = seen.indexOf("\n")) !== -1) {
        const line = seen.slice(0, newline);
        seen = seen.slice(newline + 1);
        const found = /listening on (http:\/\/\S+)/.exec(line)?.[1];
        if (found && url === null) ready((url = found));
        else if (line.startsWith("cpu ")) {
          const waiter = waiters.shift();
          if (waiter) waiter(line);
          else lines.push(line);
        }
      }
    }
  })();
  const address = await Promise.race([started, child.exited.then((code) => Promise.reject(new Error(`fake server exited with ${code}`)))]);
  return {
    url: address,
    watch(pid) {
      child.stdin.write(`pid ${pid}\n`);
      child.stdin.flush();
    },
    async cpu() {
      child.stdin.write("report\n");
      child.stdin.flush();
      const line = lines.shift() ?? (await new Promise<string>((resolve) => waiters.push(resolve)));
      const [, tokens, series] = /^cpu (\d+) (.*)$/.exec(line)!;
      return { tokens: Number(tokens), series: JSON.parse(series!) as Array<[number, number, number, number]> };
    },
    async stop() {
      child.kill("SIGTERM");
      await child.exited;
    },
  };
}

/** The cumulative figure of a series of [time, value] samples at `at`, interpolated between the two around it (the last one after the series). */
export function valueAt(series: ReadonlyArray<readonly number[]>, at: number): number {
  if (series.length === 0) return NaN;
  if (at <= series[0]![0]) return series[0]![1];
  for (let i = 1; i < series.length; i++) {
    const [t1, v1] = series[i]!;
    if (t1 < at) continue;
    const [t0, v0] = series[i - 1]!;
    return t1 === t0 ? v1 : v0 + ((v1 - v0) * (at - t0)) / (t1 - t0);
  }
  return series.at(-1)![1];
}

/** The resident set now (VmRSS, bytes) of a running process; null once it is gone. */
export function currentRss(pid: number): number | null {
  return rssParts(pid)?.total ?? null;
}

/**
 * The resident set of a running process (bytes): now (VmRSS), the part of it that is file-backed
 * (RssFile: pages of the executable and of mapped files, shared with any other process running
 * the same binary), and its peak so far (VmHWM); null once the process is gone.
 */
export function rssParts(pid: number): { total: number; file: number; peak: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
    const total = kb("VmRSS");
    return Number.isNaN(total) ? null : { total, file: kb("RssFile") || 0, peak: kb("VmHWM") || total };
  } catch {
    return null;
  }
}

/** `runs` runs one after the other, each result printed to stderr as it comes. */
export async function repeatRuns<T>(runs: number, label: string, run: () => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < runs; i++) {
    results.push(await run());
    console.error(`  ${label} run ${i + 1}: ${JSON.stringify(results.at(-1))}`);
  }
  return results;
}

/** Every gap between two tokens of one stream in a fake server's truth log (ms); only the answers in `ids` when given. */
export async function truthGaps(truthPath: string, ids?: ReadonlySet<string | null>): Promise<number[]> {
  const gaps: number[] = [];
  for (const entry of await readJsonl<{ id: string; token_ms: number[] }>(truthPath)) {
    if (ids !== undefined && !ids.has(entry.id)) continue;
    for (let i = 1; i < entry.token_ms.length; i++) gaps.push(entry.token_ms[i]! - entry.token_ms[i - 1]!);
  }
  return gaps;
}

/** A bench's command line: `--name value` options, and which of `parts` were named (all when none was). */
export function benchArgs(parts: string[]): { option: (name: string, fallback: string) => string; what: Set<string> } {
  const argv = process.argv.slice(2);
  const option = (name: string, fallback: string) => {
    const at = argv.indexOf(`--${name}`);
    return at === -1 ? fallback : argv[at + 1]!;
  };
  const picked = argv.filter((arg) => parts.includes(arg));
  return { option, what: new Set(picked.length > 0 ? picked : parts) };
}
