/** Runs llmbench the way users do: the compiled binary when LLMBENCH_BIN names one, else `bun src/cli.ts`. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");

export function llmbenchArgv(...args: string[]): string[] {
  const bin = process.env.LLMBENCH_BIN;
  return bin ? [resolve(ROOT, bin), ...args] : [process.execPath, join(ROOT, "src/cli.ts"), ...args];
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** `prefix` runs llmbench under another program (e.g. faketime -f +5s). */
export async function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; prefix?: string[]; cwd?: string } = {}): Promise<CliResult> {
  const child = Bun.spawn([...(options.prefix ?? []), ...llmbenchArgv(...args)], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  clearTimeout(timer);
  return { exitCode, stdout, stderr };
}

export interface MockHandle {
  /** The first protocol's address: http://127.0.0.1:port, or 127.0.0.1:port for gRPC. */
  url: string;
  /** Every protocol's address, by protocol name. */
  urls: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts `llmbench mock` on free ports of 127.0.0.1 and waits for one "listening on" line per
 * protocol of its --protocol list.
 */
export async function startMock(args: string[], options: { env?: Record<string, string> } = {}): Promise<MockHandle> {
  const protocolIndex = args.indexOf("--protocol");
  const expected = protocolIndex === -1 ? 1 : args[protocolIndex + 1]!.split(",").length;
  const child = Bun.spawn(llmbenchArgv("mock", "--host", "127.0.0.1", "--port", "0", ...args), {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
    stdout: "pipe",
    stderr: "inherit",
  });
  const reader = child.stdout.getReader();
  let seen = "";
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
    const urls: Record<string, string> = {};
    for (const match of seen.matchAll(/listening on (\S+) \(protocol ([\w-]+)/g)) urls[match[2]!] = match[1]!;
    if (Object.keys(urls).length === expected) {
      reader.releaseLock();
      return {
        url: Object.values(urls)[0]!,
        urls,
        async stop() {
          child.kill("SIGTERM");
          await child.exited;
        },
      };
    }
  }
  child.kill("SIGKILL");
  throw new Error(`llmbench mock did not start: ${seen}`);
}

/** Every folder tempDir made: removed after the tests (tests/helpers/cleanup.ts, preloaded by bunfig.toml). */
const madeDirs: string[] = [];

/** LLMBENCH_KEEP_TEST_DIRS=1 keeps them, to look into a failure. */
export function removeTempDirs(): void {
  if (process.env.LLMBENCH_KEEP_TEST_DIRS) return;
  for (const dir of madeDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function tempDir(prefix = "llmbench-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeDirs.push(dir);
  return dir;
}

/** The project's own ShareGPT sample (scripts/make-sample-dataset.ts): the same data on a user's clone and in CI. */
export const DATASET = resolve(ROOT, "datasets/sharegpt_sample.json");

export async function readJsonl<T = Record<string, unknown>>(path: string): Promise<T[]> {
  const text = await Bun.file(path).text();
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => JSON.parse(line) as T);
}
