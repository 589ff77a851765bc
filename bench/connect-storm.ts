/**
 * A connect storm: 5,000 users at ramp-up 0 against the bench's fake server listening with a
 * backlog of 1,024 (set with listen() again through bun:ffi: Bun.listen and node:net always
 * listen with 512, and `llmbench mock` has no --backlog). With the users' connections opened
 * before the clock (the default) nothing is lost and TTFT is the server's; with --no-preconnect
 * the burst overflows the accept queue and SYN retries (1 s, 3 s, …) land in TTFT.
 *   bun bench/connect-storm.ts [--users 5000] [--backlog 1024] [--runs 3] [--modes preconnect,no-preconnect]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { llmbench, quantile, readJsonl, spread, startFakeServer } from "./lib.ts";

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1]!;
};
const users = Number(option("users", "5000"));
const backlog = Number(option("backlog", "1024"));
const runs = Number(option("runs", "3"));
const modes = option("modes", "preconnect,no-preconnect").split(",");
// Short answers: 10,000 tokens in all, so that the client is not the bottleneck here, the connections are.
const TOKENS = 2;
const ITL_MS = 100;

interface Result { lost: number; clientP99Ttft: number; serverP99Ttft: number; p99ConnectMs: number | null; preconnectMs: number | null }

async function runOnce(mode: string): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), "llmbench-storm-"));
  const truth = join(dir, "truth.jsonl");
  const server = await startFakeServer({ itlMs: ITL_MS, tokens: TOKENS, truth, cpu: 1, backlog });
  try {
    const client = Bun.spawn(
      ["taskset", "-c", "0", ...llmbench(
        "run", "--base-url", server.url, "--model", "m", "--dataset", "synthetic", "--input-len", "32", "--output-len", String(TOKENS),
        "--num-clients", String(users), "--num-requests", String(users), "--ramp-up-time", "0", "--request-timeout", "60",
        "--no-progress", "--no-server-metrics", "--result-dir", join(dir, "r"), ...(mode === "no-preconnect" ? ["--no-preconnect"] : []),
      )],
      { stdout: "ignore", stderr: "inherit" },
    );
    await client.exited;
    await server.stop();
    const records = await readJsonl<{ status: string; ttft_ms: number | null; request_id?: string | null }>(join(dir, "r/requests.jsonl"));
    const summary = (await Bun.file(join(dir, "r/summary.json")).json()) as { connect_ms: { p99: number | null }; preconnect: { ms: number } | null };
    const served = await readJsonl<{ arrival_ms: number; token_ms: number[] }>(truth);
    const ok = records.filter((r) => r.status === "ok" && r.ttft_ms !== null).map((r) => r.ttft_ms!);
    return {
      lost: users - ok.length,
      clientP99Ttft: ok.length > 0 ? quantile(ok, 0.99) : NaN,
      serverP99Ttft: served.length > 0 ? quantile(served.map((t) => t.token_ms[0]! - t.arrival_ms), 0.99) : NaN,
      p99ConnectMs: summary.connect_ms.p99,
      preconnectMs: summary.preconnect?.ms ?? null,
    };
  } finally {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`${users} users, ramp-up 0, server backlog ${backlog}, ${TOKENS} tokens × ${ITL_MS} ms (${runs} runs; min / median / max)`);
for (const mode of modes) {
  const results: Result[] = [];
  for (let i = 0; i < runs; i++) {
    results.push(await runOnce(mode));
    console.error(`  ${mode} run ${i + 1}: ${JSON.stringify(results.at(-1))}`);
  }
  console.log(
    `${mode}: lost ${spread(results.map((r) => r.lost), 0)}; p99 TTFT client ${spread(results.map((r) => r.clientP99Ttft), 0)} ms vs server ${spread(results.map((r) => r.serverP99Ttft), 0)} ms` +
      (mode === "preconnect" ? `; preconnecting took ${spread(results.map((r) => r.preconnectMs ?? NaN), 0)} ms` : `; p99 connect ${spread(results.map((r) => r.p99ConnectMs ?? NaN), 0)} ms`),
  );
}
