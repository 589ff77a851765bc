/**
 * What the ppl (gRPC) client costs, against a fake server of our own (bench/ppl-fake-server.ts,
 * pinned to core 1, truth-logged) with `llmbench run --backend ppl` pinned to core 0:
 *  - CPU per streamed message at STREAMS streams × CPU_RATE msg/s: the client's CPU time (all
 *    its threads, from /proc) while all streams are open, over the messages written meanwhile;
 *  - client receipt minus server write, per message, at STREAMS streams × LATENCY_RATE msg/s: p50/p99.
 * Each as min / median / max of RUNS runs.
 *
 *   bun bench/grpc-cpu.ts [--bin ./llmbench] [--runs 3] [--streams 200] [--cpu-rate 50] [--latency-rate 20]
 *                         [--seconds 10] [--env NAME=VALUE ...] [--only cpu|latency] [--schedule shared|own]
 * `--schedule` is the fake server's (see bench/ppl-fake-server.ts): `shared`, one clock for every
 * stream as a batching server steps (the default); `own`, each stream on its own clock, a write per message.
 */
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { quantile, readJsonl, ROOT } from "./lib.ts";

const { values } = parseArgs({
  options: {
    bin: { type: "string", default: join(ROOT, "llmbench") },
    runs: { type: "string", default: "3" },
    streams: { type: "string", default: "200" },
    "cpu-rate": { type: "string", default: "50" },
    "latency-rate": { type: "string", default: "20" },
    seconds: { type: "string", default: "10" },
    env: { type: "string", multiple: true, default: [] },
    only: { type: "string" },
    schedule: { type: "string", default: "shared" },
  },
});
const bin = resolve(values.bin);
const runs = Number(values.runs);
const streams = Number(values.streams);
const seconds = Number(values.seconds);
const extraEnv = Object.fromEntries(values.env.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]));
const CLOCK_TICK_MS = 10; // USER_HZ = 100 on Linux

/** CPU time (ms) of a process and all its descendants, every thread counted. */
function treeCpuMs(pid: number): number {
  let ticks = 0;
  const visit = (p: number) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, "utf8").split(" ").filter(Boolean)) visit(Number(child));
      }
    } catch {
      // gone
    }
  };
  visit(pid);
  return ticks * CLOCK_TICK_MS;
}

/** CPU time (ms) of each of a process's threads, summed by thread name (main thread: the process's name). */
function threadCpuMs(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, "utf8");
        const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
        const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
        byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS);
      } catch {
        // the thread ended
      }
    }
  } catch {
    // gone
  }
  return byName;
}

/** Time (ms) the process's threads spent runnable but waiting for a CPU (/proc schedstat): other work on the core. */
function runQueueWaitMs(pid: number): number {
  let ns = 0;
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[1]);
  } catch {
    // gone
  }
  return ns / 1e6;
}

interface Truth {
  id: number;
  token_ms: number[];
}
interface RequestLine {
  send_ms: number;
  status: string;
  events: [number, number][];
}

async function oneRun(ratePerStream: number): Promise<{ cpuPerMessageUs: number; receiptMinusWrite: number[]; steadyReceiptMinusWrite: number[]; failed: number }> {
  const dir = mkdtempSync(join(tmpdir(), "llmbench-grpc-"));
  const truthPath = join(dir, "truth.jsonl");
  const server = Bun.spawn(["taskset", "-c", "1", process.execPath, join(import.meta.dir, "ppl-fake-server.ts"), "--rate", String(ratePerStream), "--streams", String(streams), "--truth-log", truthPath, "--schedule", values.schedule], {
    stdout: "pipe",
    stderr: "inherit",
  });
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string> => {
    for (;;) {
      const newline = buffered.indexOf("\n");
      if (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        return line;
      }
      const { value, done } = await lines.read();
      if (done) throw new Error("the fake server stopped");
      buffered += value;
    }
  };
  try {
    const port = Number((await nextLine()).split(" ")[1]);
    const outputLen = Math.round(seconds * ratePerStream);
    const client = Bun.spawn(
      [
        "taskset", "-c", "0", bin, "run", "--backend", "ppl", "--base-url", `127.0.0.1:${port}`, "--model", "m",
        "--dataset-path", join(ROOT, "datasets/sharegpt_sample.json"), "--output-len", String(outputLen),
        "--num-clients", String(streams), "--num-requests", String(streams), "--ramp-up-time", "1",
        "--result-dir", join(dir, "r"), "--no-progress",
      ],
      { stdout: "ignore", stderr: "inherit", env: { ...process.env, ...extraEnv } },
    );
    const steady = await nextLine();
    const cpuStart = treeCpuMs(client.pid);
    const threadsStart = threadCpuMs(client.pid);
    const waitStart = runQueueWaitMs(client.pid);
    const serverCpuStart = treeCpuMs(server.pid);
    const steadyStarted = performance.now();
    const draining = await nextLine();
    const steadyFromMs = performance.timeOrigin + steadyStarted;
    const steadyToMs = performance.timeOrigin + performance.now();
    const cpuEnd = treeCpuMs(client.pid);
    const threadsEnd = threadCpuMs(client.pid);
    const waitedMs = runQueueWaitMs(client.pid) - waitStart;
    const serverCpuMs = treeCpuMs(server.pid) - serverCpuStart;
    const steadyMs = performance.now() - steadyStarted;
    const code = await client.exited;
    if (code !== 0) throw new Error(`llmbench run exited with ${code}`);
    const messages = Number(draining.split(" ")[1]) - Number(steady.split(" ")[1]);
    server.kill("SIGTERM");
    await server.exited;
    const truth = (await readJsonl<Truth>(truthPath)).filter((t) => t.token_ms.length === outputLen);
    const records = await readJsonl<RequestLine>(join(dir, "r/requests.jsonl"));
    // The run numbers requests in the order it sends them (run-point.ts) and the server logs that id:
    // records in send order pair with the server's calls in id order.
    const byId = [...truth].sort((a, b) => a.id - b.id);
    const ok = records.filter((r) => r.status === "ok" && r.events.length > 0);
    const bySend = [...ok].sort((a, b) => a.send_ms - b.send_ms);
    if (bySend.length !== byId.length) throw new Error(`${bySend.length} complete answers, but the server logged ${byId.length} complete calls`);
    const receiptMinusWrite: number[] = [];
    const steadyReceiptMinusWrite: number[] = [];
    bySend.forEach((record, i) => {
      const written = byId[i]!.token_ms;
      let k = 0;
      for (const [offset, tokens] of record.events) {
        for (let t = 0; t < tokens && k < written.length; t++, k++) {
          const late = record.send_ms + offset - written[k]!;
          receiptMinusWrite.push(late);
          if (written[k]! >= steadyFromMs && written[k]! <= steadyToMs) steadyReceiptMinusWrite.push(late);
        }
      }
    });
    const perThread = [...threadsEnd]
      .map(([name, ms]) => [name, ms - (threadsStart.get(name) ?? 0)] as const)
      .filter(([, ms]) => ms > 0)
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => `${name} ${((ms * 1000) / messages).toFixed(1)}`);
    console.log(`    client threads, µs/message: ${perThread.join(", ")}`);
    console.log(`    steady window ${(steadyMs / 1000).toFixed(1)} s, ${messages} messages written; fake server CPU ${((serverCpuMs * 1000) / messages).toFixed(1)} µs/message, ${((100 * serverCpuMs) / steadyMs).toFixed(0)} % of its core; the client waited ${((1000 * waitedMs) / steadyMs).toFixed(0)} ms/s for its core`);
    return { cpuPerMessageUs: ((cpuEnd - cpuStart) * 1000) / messages, receiptMinusWrite, steadyReceiptMinusWrite, failed: records.length - ok.length };
  } finally {
    server.kill("SIGTERM");
    await server.exited;
  }
}

const spread = (values: number[], digits = 1) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `min ${sorted[0]!.toFixed(digits)} / median ${quantile(sorted, 0.5).toFixed(digits)} / max ${sorted.at(-1)!.toFixed(digits)}`;
};

console.log(`llmbench: ${bin}${values.env.length ? ` with ${values.env.join(" ")}` : ""}; fake server schedule: ${values.schedule}`);
if (values.only !== "latency") {
  const cpu: number[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await oneRun(Number(values["cpu-rate"]));
    cpu.push(result.cpuPerMessageUs);
    console.log(`  cpu run ${run + 1}: ${result.cpuPerMessageUs.toFixed(1)} µs/message${result.failed ? `, ${result.failed} failed` : ""}`);
  }
  console.log(`CPU per streamed message, ${streams} streams × ${values["cpu-rate"]} msg/s (µs; target ≤ 10): ${spread(cpu)}`);
}
if (values.only !== "cpu") {
  const p50: number[] = [];
  const p99: number[] = [];
  const steadyP99: number[] = [];
  for (let run = 0; run < runs; run++) {
    const result = await oneRun(Number(values["latency-rate"]));
    p50.push(quantile(result.receiptMinusWrite, 0.5));
    p99.push(quantile(result.receiptMinusWrite, 0.99));
    steadyP99.push(quantile(result.steadyReceiptMinusWrite, 0.99));
    console.log(`  latency run ${run + 1}: p50 ${p50.at(-1)!.toFixed(2)} ms, p99 ${p99.at(-1)!.toFixed(2)} ms over ${result.receiptMinusWrite.length} messages (all streams open: p99 ${steadyP99.at(-1)!.toFixed(2)} ms over ${result.steadyReceiptMinusWrite.length})${result.failed ? `, ${result.failed} failed` : ""}`);
  }
  console.log(`client receipt − server write, ${streams} streams × ${values["latency-rate"]} msg/s (ms): p50 ${spread(p50, 2)}; p99 ${spread(p99, 2)} (target p99 ≤ 5); p99 while all streams are open ${spread(steadyP99, 2)}`);
}
