/**
 * The floor under bench/client-cpu.ts's figures: what a client that does nothing with the bytes
 * costs on this machine. Same fake server, same pinning (client on core 0, server on core 1), same
 * streams and tokens; the client only opens its keep-alive sockets, writes each request, notes
 * when each token's bytes were read and watches for the chunked body's end. Whatever llmbench
 * costs above this is ours to cut; this much is the runtime's event loop and the kernel's socket
 * path. Two such clients: one on Bun.connect (the runtime llmbench is built on) and, where gcc is
 * present, one in C (bench/epoll-floor.c: epoll, one recv per ready socket), the kernel's share alone.
 *   bun bench/socket-floor.ts [cpu] [itl] [rss] [--runs 3] [--loads 50,200,1000] [--rss-streams 10000]
 * The same three figures as bench/client-cpu.ts: CPU per token (5 ms per token), p99 inter-token
 * gap minus the server's true p99 (200 streams × 5 ms), peak RSS (10,000 streams × 50 ms).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RUNTIME_ENV } from "../src/common/runtime-tuning.ts";
import { benchArgs, currentRss, quantile, repeatRuns, spread, startFakeServer, truthGaps, valueAt } from "./lib.ts";

const TOKENS = 256;

/** The one request every stream sends, again and again. */
function requestText(hostname: string, port: string): string {
  const body = JSON.stringify({ model: "m", prompt: "x".repeat(128), max_tokens: TOKENS, stream: true, stream_options: { include_usage: true } });
  return `POST /v1/completions HTTP/1.1\r\nhost: ${hostname}:${port}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
}

if (import.meta.main) {
  if (process.argv[2] === "--client") await floorClient(process.argv[3]!, Number(process.argv[4]), Number(process.argv[5]), Number(process.argv[6]));
  else await main();
}

/**
 * `streams` sockets, `rounds` requests each, one at a time per socket, connected `rampUpS` apart in
 * all; prints the epoch ms of the last byte and the p99 gap between a stream's tokens (each token
 * event carries the text " tok" once: a read with k of them is k tokens, k − 1 of them 0 ms apart).
 */
async function floorClient(url: string, streams: number, rounds: number, rampUpS: number): Promise<void> {
  const { hostname, port } = new URL(url);
  const request = Buffer.from(requestText(hostname, port));
  const end = Buffer.from("0\r\n\r\n");
  const gaps = new Float64Array(streams * rounds * TOKENS);
  let gapCount = 0;
  let lastByteAt = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: streams }, async (_, user) => {
      const due = startedAt + (rampUpS * 1000 * user) / streams;
      if (due > performance.now()) await Bun.sleep(due - performance.now());
      let left = rounds;
      let lastTokenAt = -1;
      let done: () => void = () => {};
      const finished = new Promise<void>((resolve) => (done = resolve));
      await Bun.connect({
        hostname,
        port: Number(port),
        socket: {
          open(socket) {
            socket.write(request);
          },
          data(socket, data) {
            const at = performance.now();
            for (let from = data.indexOf(" tok"); from !== -1; from = data.indexOf(" tok", from + 4)) {
              if (lastTokenAt >= 0) gaps[gapCount++] = at - lastTokenAt;
              lastTokenAt = at;
            }
            if (data.length >= 5 && data.subarray(data.length - 5).equals(end)) {
              lastByteAt = performance.timeOrigin + at;
              lastTokenAt = -1;
              if (--left === 0) {
                socket.end();
                done();
              } else socket.write(request);
            }
          },
          error() {},
        },
      });
      await finished;
    }),
  );
  const sorted = gaps.subarray(0, gapCount).sort();
  console.log(JSON.stringify({ lastByteAt, p99Gap: sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] }));
}

export interface FloorRun {
  cpuUsPerToken: number;
  p99GapExcess: number;
  peakRss: number;
}

/**
 * One run of a floor client (the Bun.connect one, or the C one built at `native`) against a fresh
 * pinned fake server; bench/client-cpu.ts runs it beside llmbench's runs (--floor).
 */
export async function runFloorOnce(client: "bun" | { native: string }, streams: number, rounds: number, itlMs: number, rampUpS: number): Promise<FloorRun> {
  const dir = mkdtempSync(join(tmpdir(), "llmbench-floor-"));
  const truth = join(dir, "truth.jsonl");
  const server = await startFakeServer({ itlMs, tokens: TOKENS, truth, cpu: 1 });
  try {
    const { hostname, port } = new URL(server.url);
    const argv =
      client === "bun"
        ? [process.execPath, import.meta.path, "--client", server.url, String(streams), String(rounds), String(rampUpS)]
        : [client.native, hostname, port, String(streams), String(rounds), String(rampUpS), requestText(hostname, port)];
    const child = Bun.spawn(["taskset", "-c", "0", ...argv], {
      stdout: "pipe",
      stderr: "inherit",
      env: { ...process.env, ...RUNTIME_ENV }, // the runtime settings llmbench runs itself with
    });
    server.watch(child.pid);
    let peakRss = 0;
    const poll = setInterval(() => (peakRss = Math.max(peakRss, currentRss(child.pid) ?? 0)), 100);
    const out = JSON.parse((await new Response(child.stdout).text()).trim()) as { lastByteAt: number; p99Gap: number };
    clearInterval(poll);
    if ((await child.exited) !== 0) throw new Error("the floor client failed");
    const { tokens, series } = await server.cpu();
    await server.stop();
    const serverGaps = await truthGaps(truth);
    return {
      cpuUsPerToken: (valueAt(series, out.lastByteAt) - series[0]![1]) / 1000 / tokens,
      p99GapExcess: out.p99Gap - quantile(serverGaps, 0.99),
      peakRss,
    };
  } finally {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { option, what } = benchArgs(["cpu", "itl", "rss"]);
  const runs = Number(option("runs", "3"));
  const loads = option("loads", "50,200,1000").split(",").map(Number);
  const rssStreams = Number(option("rss-streams", "10000"));
  const build = mkdtempSync(join(tmpdir(), "llmbench-floor-c-"));
  const native = join(build, "epoll-floor");
  const hasGcc = spawnSync("gcc", ["-O2", "-o", native, join(import.meta.dir, "epoll-floor.c")], { stdio: "inherit" }).status === 0;

  const repeat = (label: string, run: () => Promise<FloorRun>) => repeatRuns(runs, label, run);

  console.log(`a client that only reads the bytes (${runs} runs each; min / median / max)`);
  for (const client of hasGcc ? (["bun", "c"] as const) : (["bun"] as const)) {
    const label = client === "bun" ? "Bun.connect" : "C, epoll";
    const runner = client === "bun" ? "bun" : { native };
    if (what.has("cpu")) {
      for (const streams of loads) {
        const rounds = Math.max(1, Math.ceil(50_000 / (streams * TOKENS)));
        const results = await repeat(`${label} cpu ${streams}`, () => runFloorOnce(runner, streams, rounds, 5, 0));
        console.log(`${label}: ${streams} streams × 5 ms: CPU per token ${spread(results.map((r) => r.cpuUsPerToken))} µs`);
      }
    }
    if (what.has("itl")) {
      const results = await repeat(`${label} itl`, () => runFloorOnce(runner, 200, 1, 5, 0));
      console.log(`${label}: 200 streams × 5 ms: p99 gap client − server ${spread(results.map((r) => r.p99GapExcess), 2)} ms`);
    }
    if (what.has("rss")) {
      const results = await repeat(`${label} rss`, () => runFloorOnce(runner, rssStreams, 1, 50, 5));
      console.log(`${label}: ${rssStreams} streams × 50 ms: peak RSS ${spread(results.map((r) => r.peakRss / 1e6), 0)} MB, per stream ${spread(results.map((r) => r.peakRss / rssStreams / 1024), 1)} KB`);
    }
  }
  rmSync(build, { recursive: true, force: true });
}
