/**
 * How much more load do N worker processes carry than one? Closed-loop clients at ramp-up 0 against
 * a server that answers at once, so that the client is the bottleneck: completed requests and
 * tokens per second are what the client(s) can drive.
 *   bun bench/workers.ts [--mock] [--runs 3] [--clients 64] [--requests 8000] [--output-len 1024] [--warmup 300] [WORKERS…]
 * The default is long answers: the client's work per token (reading and parsing 1,024 events)
 * dominates the server's (one write). Short answers (`--clients 256 --requests 30000 --output-len 16
 * --warmup 500`) weigh the client's and the server's work per request instead.
 * The server shares the machine's cores with the clients. By default it is bench/burst-server.ts
 * (each answer one write of a response built once): the cheapest server there is, so that most of
 * the machine is left to the clients, and its own CPU time is printed so that the ceiling is plain —
 * on C cores, N workers can carry at most C / (client + server CPU per request). `--mock` serves
 * with llmbench's simulator (TTFT 0, ITL 0) instead, which costs more per request.
 * Each run starts a fresh server; the server's count of answers must equal the client's.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { llmbench, spawnListening, spread, startMock } from "./lib.ts";

const argv = process.argv.slice(2);
const option = (name: string, fallback: string) => {
  const at = argv.indexOf(`--${name}`);
  return at === -1 ? fallback : argv[at + 1]!;
};
const useMock = argv.includes("--mock");
const runs = Number(option("runs", "3"));
const clients = Number(option("clients", "64"));
const requests = Number(option("requests", "8000"));
const outputLen = Number(option("output-len", "1024"));
const warmup = Number(option("warmup", "300"));
const valued = new Set(["--runs", "--clients", "--requests", "--output-len", "--warmup"]);
const workerCounts = argv.filter((arg, i) => /^\d+$/.test(arg) && !valued.has(argv[i - 1] ?? "")).map(Number);
if (workerCounts.length === 0) workerCounts.push(1, 2);
const CLK_TCK_S = 0.01;

interface Server {
  url: string;
  pid: number;
  stop(): Promise<number | null>;
}

async function startBurstServer(): Promise<Server> {
  const { child, reader, url } = await spawnListening([process.execPath, resolve(import.meta.dir, "burst-server.ts"), "--tokens", String(outputLen)]);
  return {
    url,
    pid: child.pid,
    async stop() {
      child.kill("SIGTERM");
      let rest = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        rest += new TextDecoder().decode(value);
      }
      await child.exited;
      const answered = /answered (\d+)/.exec(rest)?.[1];
      return answered === undefined ? null : Number(answered);
    },
  };
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * CLK_TCK_S;
}

interface RunResult {
  qps: number;
  outputTps: number;
  serverCpuPerRequestUs: number;
}

async function runOnce(workers: number): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "llmbench-workers-"));
  const server = useMock ? null : await startBurstServer();
  const mock = useMock ? await startMock(["--ttft-ms", "0", "--itl-ms", "0"]) : null;
  const url = server?.url ?? mock!.url;
  try {
    const serverCpuBefore = server ? cpuSeconds(server.pid) : 0;
    const client = Bun.spawn(
      llmbench(
        "run", "--base-url", url, "--model", "m", "--dataset", "synthetic", "--input-len", "64", "--output-len", String(outputLen),
        "--num-clients", String(clients), "--num-requests", String(requests), "--ramp-up-time", "0", "--warmup-requests", String(warmup),
        "--result-dir", join(dir, "r"), "--no-progress", "--no-server-metrics", "--workers", String(workers),
      ),
      { stdout: "ignore", stderr: "inherit" },
    );
    if ((await client.exited) !== 0) throw new Error(`llmbench exited with ${client.exitCode}`);
    const serverCpu = server ? cpuSeconds(server.pid) - serverCpuBefore : NaN;
    const summary = await Bun.file(join(dir, "r/summary.json")).json();
    if (server) {
      const answered = await server.stop();
      const expected = summary.completed + warmup * workers; // each worker warms up its own connections
      if (answered !== null && answered < summary.completed) throw new Error(`the server answered ${answered}, the client counted ${summary.completed} completed`);
      if (answered !== null && answered > expected + workers) console.error(`  note: the server answered ${answered}, expected at most ${expected}`);
    }
    return { qps: summary.qps, outputTps: summary.o_tps, serverCpuPerRequestUs: (serverCpu / (summary.completed + warmup * workers)) * 1e6 };
  } finally {
    await server?.stop().catch(() => null);
    await mock?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

console.log(`client: ${llmbench()[0]}; ${clients} users, ${requests} requests of ${outputLen} tokens, ${useMock ? "simulator" : "burst server"}; ${runs} runs each (min / median / max)`);
const medians = new Map<number, number>();
for (const workers of workerCounts) {
  const results: RunResult[] = [];
  for (let i = 0; i < runs; i++) {
    const result = await runOnce(workers);
    results.push(result);
    console.error(`  workers ${workers} run ${i + 1}: ${JSON.stringify(result)}`);
  }
  const qps = results.map((r) => r.qps);
  medians.set(workers, qps.sort((a, b) => a - b)[Math.floor(qps.length / 2)]!);
  const server = useMock ? "" : `; server CPU ${spread(results.map((r) => r.serverCpuPerRequestUs), 0)} µs per request`;
  console.log(`workers ${workers}: ${spread(results.map((r) => r.qps), 0)} req/s, ${spread(results.map((r) => r.outputTps), 0)} output tok/s${server}`);
}
const one = medians.get(1);
if (one !== undefined) for (const [workers, median] of medians) if (workers !== 1) console.log(`workers ${workers} / workers 1 (median req/s): ${(median / one).toFixed(2)}×`);
