/** Shared by the bench scripts: the binary (or source) to run, a simulator on a free port, statistics. */
import { resolve } from "node:path";

export const ROOT = resolve(import.meta.dir, "..");

/** `./llmbench` when built (what users run), else `bun src/cli.ts`. */
export function llmbench(...args: string[]): string[] {
  const bin = resolve(ROOT, "llmbench");
  return Bun.file(bin).size > 0 ? [bin, ...args] : [process.execPath, resolve(ROOT, "src/cli.ts"), ...args];
}

export async function startMock(args: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const child = Bun.spawn(llmbench("mock", "--host", "127.0.0.1", "--port", "0", ...args), { stdout: "pipe", stderr: "inherit" });
  const reader = child.stdout.getReader();
  let seen = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`mock did not start: ${seen}`);
    seen += new TextDecoder().decode(value);
    const url = /listening on (http:\/\/\S+)/.exec(seen)?.[1];
    if (url) {
      reader.releaseLock();
      return { url, stop: async () => void (child.kill("SIGTERM"), await child.exited) };
    }
  }
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
