/**
 * What the client costs, measured against the bench's own fake server (bench/fake-sse-server.ts,
 * pinned to core 1) with llmbench pinned to core 0: 256 tokens per answer, one token to every
 * stream on each tick.
 *   bun bench/client-cpu.ts [cpu] [itl] [rss] [--runs 3] [--loads 50,200,1000] [--rss-streams 10000] [--floor]
 * LLMBENCH_BIN=/path/to/llmbench measures another build (e.g. main's, as a baseline).
 *  - cpu: client CPU time per token written, at each load, 5 ms per token: every client thread's
 *    run time (/proc/PID/task/[*]/schedstat, ns), sampled by the server from just before its first
 *    token, read at the moment the client's last token arrived (its records: send_ms + the last
 *    event's offset), so that neither start-up nor the end-of-run summary counts. Cold: the
 *    process's first requests are measured, so the JIT's compiling of the read path (a fixed
 *    ~0.1-0.2 s of CPU) is spread over the run's ~50,000 tokens. Warm: after one unmeasured
 *    request per user (--warmup-requests), from the first measured send to the last token, over
 *    the measured tokens only: what each token costs in a benchmark of any length.
 *    --floor: each cold run is followed by a run of bench/socket-floor.ts's Bun.connect client (one
 *    that only reads the bytes) at the same load, and llmbench's excess over it is given run by
 *    run: the host's speed drifts by a third within an hour, the two runs a minute apart do not.
 *  - itl: p99 of the client's inter-token gaps minus p99 of the server's true gaps (truth log), 200 streams × 5 ms;
 *    cold (the process's first requests) and warm (after as many unmeasured warm-up requests).
 *  - rss: peak RSS over streams, 10,000 streams × 50 ms per token: while streaming (VmRSS sampled
 *    every 25 ms up to the last token's arrival) and over the whole run (VmHWM, read every 25 ms to
 *    the exit, with the report);
 *    of the streaming peak, what is file-backed (the binary's pages), and what the streams added
 *    to the RSS just before the first token (the process with every connection open and idle).
 * Each figure: min / median / max of the runs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFloorOnce } from "./socket-floor.ts";
import { benchArgs, llmbench, quantile, readJsonl, repeatRuns, rssParts, spread, startFakeServer, truthGaps, valueAt } from "./lib.ts";

const { option, what } = benchArgs(["cpu", "itl", "rss"]);
const runs = Number(option("runs", "3"));
const loads = option("loads", "50,200,1000").split(",").map(Number);
const rssStreams = Number(option("rss-streams", "10000"));
const itlStreams = Number(option("itl-streams", "200"));
const withFloor = process.argv.includes("--floor");
const TOKENS = 256;

interface RunResult {
  cpuUsPerToken: number;
  /** From the first measured request's send to the last token, over the measured requests' tokens (the warm-up's excluded). */
  measuredCpuUsPerToken: number;
  /** Of the client's time, the kernel's (system ticks over user + system, /proc/PID/stat). */
  kernelShare: number;
  /** Peak RSS (sampled every 25 ms) up to the client's last token: the streams' memory, without the end-of-run report's. */
  streamingRss: number;
  /** Of streamingRss, file-backed (RssFile) at that sample. */
  streamingFileRss: number;
  /** The highest sample before the first token arrived: every user's connection open, none streaming. */
  idleRss: number;
  cpuAfterLastTokenMs: number;
  clientP99Itl: number;
  serverP99Itl: number;
  peakRss: number;
  failed: number;
  records: number;
}

/** One llmbench run of `streams` users, `rounds` answers each, against a fresh fake server. */
async function runOnce(streams: number, rounds: number, itlMs: number, rampUpS: number, extra: string[] = []): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "llmbench-cpu-"));
  const truth = join(dir, "truth.jsonl");
  const server = await startFakeServer({ itlMs, tokens: TOKENS, truth, cpu: 1 });
  let peak = 0;
  try {
    const client = Bun.spawn(
      ["taskset", "-c", "0", ...llmbench(
        "run", "--base-url", server.url, "--model", "m", "--dataset", "synthetic", "--input-len", "32", "--output-len", String(TOKENS),
        "--num-clients", String(streams), "--num-requests", String(streams * rounds), "--ramp-up-time", String(rampUpS),
        "--no-progress", "--no-server-metrics", "--result-dir", join(dir, "r"), ...extra,
      )],
      { stdout: "ignore", stderr: "inherit" },
    );
    server.watch(client.pid);
    const rssSeries: Array<[number, number, number]> = [];
    const poll = setInterval(() => {
      const now = rssParts(client.pid);
      if (now === null) return;
      peak = Math.max(peak, now.peak);
      rssSeries.push([performance.timeOrigin + performance.now(), now.total, now.file]);
    }, 25);
    const code = await client.exited;
    clearInterval(poll);
    // Not the exit's rusage maxRSS: Bun spawns with vfork, and exec counts the parent's peak into
    // the child's (this process, having parsed the last run's records, is ~500 MB by the second run).
    if (code !== 0) throw new Error(`llmbench exited with ${code}`);
    const { tokens, series } = await Promise.race([server.cpu(), Bun.sleep(5000).then(() => ({ tokens: 1, series: [] as Array<[number, number, number, number]> }))]);
    await server.stop();
    const records = await readJsonl<{ status: string; send_ms: number; events: [number, number][]; request_id: string | null }>(join(dir, "r/requests.jsonl"));
    const measured = new Set(records.map((record) => record.request_id)); // the server also logged the warm-up's answers
    let firstSendAt = Infinity;
    let firstTokenAt = Infinity;
    let lastTokenAt = 0;
    let measuredTokens = 0;
    for (const record of records) {
      firstSendAt = Math.min(firstSendAt, record.send_ms);
      if (record.events.length === 0) continue;
      firstTokenAt = Math.min(firstTokenAt, record.send_ms + record.events[0]![0]);
      lastTokenAt = Math.max(lastTokenAt, record.send_ms + record.events.at(-1)![0]);
      for (const [, count] of record.events) measuredTokens += count;
    }
    const cpuNs = series.length === 0 ? NaN : valueAt(series, lastTokenAt) - series[0]![1];
    // the kernel's share of the client's time over the same window (10 ms ticks: a share, not a measure)
    const atLast = series.findIndex(([at]) => at >= lastTokenAt);
    const last = series[atLast === -1 ? series.length - 1 : atLast];
    const userTicks = last === undefined ? NaN : last[2] - series[0]![2];
    const systemTicks = last === undefined ? NaN : last[3] - series[0]![3];
    const clientGaps: number[] = [];
    for (const record of records) for (let i = 1; i < record.events.length; i++) clientGaps.push(record.events[i]![0] - record.events[i - 1]![0]);
    const serverGaps = await truthGaps(truth, measured);
    let streamingRss = 0;
    let streamingFileRss = 0;
    let idleRss = 0;
    for (const [at, rss, file] of rssSeries) {
      if (at <= lastTokenAt && rss > streamingRss) [streamingRss, streamingFileRss] = [rss, file];
      if (at < firstTokenAt) idleRss = Math.max(idleRss, rss);
    }
    return {
      cpuUsPerToken: cpuNs / 1000 / tokens,
      measuredCpuUsPerToken: series.length === 0 ? NaN : (valueAt(series, lastTokenAt) - valueAt(series, Math.max(firstSendAt, series[0]![0]))) / 1000 / measuredTokens,
      kernelShare: systemTicks / (userTicks + systemTicks),
      streamingRss,
      streamingFileRss,
      idleRss,
      // what the old window (to 100 ms after the last token, ticks) also counted: the client's work after its last token, to its exit
      cpuAfterLastTokenMs: series.length === 0 ? NaN : (series.at(-1)![1] - valueAt(series, lastTokenAt)) / 1e6,
      clientP99Itl: clientGaps.length > 0 ? quantile(clientGaps, 0.99) : NaN,
      serverP99Itl: serverGaps.length > 0 ? quantile(serverGaps, 0.99) : NaN,
      peakRss: peak,
      failed: records.filter((r) => r.status !== "ok").length,
      records: records.length,
    };
  } finally {
    await server.stop().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

const repeat = (label: string, run: () => Promise<RunResult>) => repeatRuns(runs, label, run);

console.log(`client: ${llmbench()[0]}  (${runs} runs each; min / median / max)`);
if (what.has("cpu")) {
  for (const streams of loads) {
    // at least ~50,000 tokens per run
    const rounds = Math.max(1, Math.ceil(50_000 / (streams * TOKENS)));
    const results = await repeatRuns(runs, `cpu ${streams}`, async () => {
      const ours = await runOnce(streams, rounds, 5, 0);
      const floorUsPerToken = withFloor ? (await runFloorOnce("bun", streams, rounds, 5, 0)).cpuUsPerToken : NaN;
      return { ...ours, floorUsPerToken };
    });
    const failed = results.reduce((n, r) => n + r.failed, 0);
    console.log(`${streams} streams × 5 ms, cold: client CPU per token ${spread(results.map((r) => r.cpuUsPerToken))} µs, of it in the kernel ${spread(results.map((r) => r.kernelShare * r.cpuUsPerToken))} µs${failed > 0 ? `  (${failed} failed requests)` : ""}`);
    if (withFloor) {
      console.log(
        `${streams} streams × 5 ms: the Bun.connect floor ${spread(results.map((r) => r.floorUsPerToken))} µs; ` +
          `llmbench above it, run by run, ${spread(results.map((r) => r.cpuUsPerToken - r.floorUsPerToken))} µs`,
      );
    }
    const warm = await repeat(`cpu ${streams} warm`, () => runOnce(streams, rounds, 5, 0, ["--warmup-requests", String(streams)]));
    const warmFailed = warm.reduce((n, r) => n + r.failed, 0);
    console.log(`${streams} streams × 5 ms, warm: client CPU per token ${spread(warm.map((r) => r.measuredCpuUsPerToken))} µs${warmFailed > 0 ? `  (${warmFailed} failed requests)` : ""}`);
  }
}
if (what.has("itl")) {
  // cold: the first request of the process is measured (the JIT still compiling the read path);
  // warm: after --warmup-requests, as a benchmark of a server is run (its CUDA graphs want it too)
  for (const [label, extra] of [["cold", []], ["warm", ["--warmup-requests", String(itlStreams)]]] as const) {
    const results = await repeat(`itl ${label}`, () => runOnce(itlStreams, 1, 5, 0, [...extra]));
    console.log(
      `${itlStreams} streams × 5 ms, ${label}: p99 ITL client − server ${spread(results.map((r) => r.clientP99Itl - r.serverP99Itl), 2)} ms` +
        `  (client p99 ${spread(results.map((r) => r.clientP99Itl), 2)}, server p99 ${spread(results.map((r) => r.serverP99Itl), 2)})`,
    );
  }
}
if (what.has("rss")) {
  const rssItlMs = Number(option("rss-itl-ms", "50"));
  const results = await repeat("rss", () => runOnce(rssStreams, 1, rssItlMs, 5));
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(
    `${rssStreams} streams × ${rssItlMs} ms: peak RSS while streaming ${spread(results.map((r) => r.streamingRss / 1e6), 0)} MB, per stream ${spread(results.map((r) => r.streamingRss / rssStreams / 1024), 1)} KB; ` +
      `of it file-backed (the binary's pages) ${spread(results.map((r) => r.streamingFileRss / 1e6), 0)} MB; ` +
      `added by streaming (over ${spread(results.map((r) => r.idleRss / 1e6), 0)} MB with every connection open and idle) ` +
      `${spread(results.map((r) => (r.streamingRss - r.idleRss) / rssStreams / 1024), 1)} KB per stream; ` +
      `whole run (with the end-of-run report) ${spread(results.map((r) => r.peakRss / 1e6), 0)} MB${failed > 0 ? `  (${failed} failed requests)` : ""}`,
  );
}
