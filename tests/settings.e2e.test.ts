/**
 * One settings model for `run` and `sweep`: a config using every `run` setting sweeps (its
 * warm-up requests reach the simulator, as its truth log shows, but are not measured), an
 * input × output length grid sweeps with synthetic prompts of those lengths, and the sweep command
 * line overrides the config with the run flags' names. The simulator is launched by the config on
 * 127.0.0.1, as users' servers are.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TruthEntry } from "../src/mock/truth-log.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir } from "./helpers/cli.ts";

/** A config in `dir` whose simulator (with a truth log) listens on a free port; `sweep` is the sweep section's source. */
function writeConfig(dir: string, sweep: string, extra = ""): string {
  const path = join(dir, "bench.config.ts");
  writeFileSync(
    path,
    `import { defineConfig, freePort } from "llmbench";
const port = freePort();
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim", sizeB: 7, tp: 1, mode: "fp16", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      launch: { command: (config, server) => [...server.llmbench, "mock", "--port", String(server.port), "--ttft-ms", "5", "--itl-ms", "2", "--truth-log", ${JSON.stringify(join(dir, "truth.jsonl"))}], readyTimeoutS: 30, stopGraceS: 3 },
      headers: { "X-Route": "pool-a" },
    },
  },
  ${extra}
  sweep: ${sweep},
});
`,
  );
  return path;
}

function runFolder(root: string): string {
  const [date] = readdirSync(root).filter((name) => /^\d{4}-\d{2}-\d{2}$/.test(name));
  const [run] = readdirSync(join(root, date!));
  return join(root, date!, run!);
}

function csvRows(path: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const columns = header!.split(",");
  return lines.map((line) => Object.fromEntries(line.split(",").map((cell, i) => [columns[i]!, cell])));
}

const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8"));

describe("a sweep takes every run setting, for the whole sweep and per point", () => {
  test("warm-up requests are sent but not measured; each point runs with its own settings", async () => {
    const dir = tempDir();
    const systemPrompt = join(dir, "system.txt");
    writeFileSync(systemPrompt, "You are a terse assistant.");
    const trace = join(dir, "trace.jsonl");
    writeFileSync(trace, [0, 20, 40, 60].map((timestamp, i) => JSON.stringify({ timestamp, input_length: 30 + i, output_length: 4 })).join("\n") + "\n");
    const config = writeConfig(
      dir,
      `{
    tokenizer: "cl100k_base",
    outputLen: 6,
    minInputLen: 1,
    maxInputLen: 100000,
    maxTotalLen: 200000,
    systemPromptPath: "system.txt",
    numRequests: 6,
    stopTime: 60,
    drainTimeout: 10,
    requestTimeout: 60,
    seed: 3,
    goodput: { ttft: 10000, tpot: 1000 },
    metricPercentiles: [50, 99.9],
    thresholds: ["success_rate>=0.99"],
    extraBody: { top_k: 5 },
    headers: { "X-Tenant": "bench" },
    temperature: 0,
    topP: 1,
    ignoreEos: true,
    thinkTags: true,
    serverMetrics: false,
    saveResult: true,
    saveDetailed: true,
    percentileMetrics: "ttft,tpot,itl,e2el",
    resultFilename: "vllm.json",
    points: [
      { numClients: 2, rampUpTime: 0, numTurns: 2, thinkTime: 0.01, warmupRequests: 3 },
      { requestRate: 200, burstiness: 2, maxConcurrency: 2, dataset: "synthetic", inputLen: 40, inputLenStd: 2, outputLenStd: 1, prefixLen: 8, numRuns: 2 },
      { trace: "trace.jsonl", traceSpeed: 4 },
    ],
  }`,
      // the dataset file is every point's but the synthetic and the trace point's, which bring their own prompts
      `dataset: { path: ${JSON.stringify(DATASET)} },`,
    );
    const result = await runCli(["sweep", config, "--no-progress", "--no-doctor", "--output-dir", join(dir, "result")], { timeoutMs: 110_000 });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const run = runFolder(join(dir, "result"));
    const folders = readdirSync(run).filter((name) => /^\d\d_/.test(name)).sort();
    expect(folders).toEqual(["01_clients-2", "02_rate-200_isl-40", "03_trace-trace-x4"]);

    // the closed-loop point: 6 measured requests of 2-turn conversations, after 3 warm-up requests
    const closed = await readJsonl<RequestRecord>(join(run, folders[0]!, "requests.jsonl"));
    const closedSummary = readJson(join(run, folders[0]!, "summary.json"));
    expect(closed.length).toBe(6);
    expect(closedSummary.completed).toBe(6);
    expect(new Set(closed.map((r) => r.turn))).toEqual(new Set([0, 1]));
    expect(closedSummary.workload).toMatchObject({ warmup_requests: 3, turns: 2, think_time_s: 0.01, seed: 3, output_len: 6, num_requests: 6, stop_time_s: 60 });
    expect(closedSummary.thresholds_ok).toBe(true);
    expect(closedSummary.system_prompt_tokens).toBeGreaterThan(0);
    expect(Object.keys(csvRows(join(run, folders[0]!, "summary.csv"))[0]!)).toContain("p99.9_ttft");
    expect(Object.keys(readJson(join(run, folders[0]!, "vllm.json")))).toContain("p99.9_e2el_ms");

    // the truth log has every request the server saw: the measured ones and, before them, the warm-ups
    const truth = (await readJsonl<TruthEntry>(join(dir, "truth.jsonl"))).sort((a, b) => a.arrival_ms - b.arrival_ms);
    const measured = [];
    for (const folder of folders) {
      measured.push(...(await readJsonl<RequestRecord>(join(run, folder, "requests.jsonl"))));
      for (const repeat of readdirSync(join(run, folder)).filter((name) => name.startsWith("run-"))) measured.push(...(await readJsonl<RequestRecord>(join(run, folder, repeat, "requests.jsonl"))));
    }
    expect(truth.length).toBe(measured.length + 3);
    const firstMeasured = Math.min(...closed.map((r) => r.send_ms));
    const warmups = truth.filter((t) => t.arrival_ms < firstMeasured);
    expect(warmups.length).toBe(3);
    for (const warmup of warmups) expect(warmup.status).toBe("ok");
    // the rest, counted by the server, are the measured requests, token for token
    expect(truth.slice(3).reduce((sum, t) => sum + t.output_tokens, 0)).toBe(measured.reduce((sum, r) => sum + r.out_tokens, 0));

    // the rate point: synthetic prompts, two runs, a cap of 2 in flight
    const rate = join(run, folders[1]!);
    expect(readJson(join(rate, "repeats.json")).num_runs).toBe(2);
    const rateSummary = readJson(join(rate, "summary.json"));
    expect(rateSummary.workload).toMatchObject({ dataset: "synthetic", burstiness: 2, max_concurrency: 2 });
    expect(rateSummary.workload.synthetic).toMatchObject({ inputLen: 40, prefixLen: 8 });
    expect(rateSummary.max_concurrency).toBeLessThanOrEqual(2);
    const [rateRow] = csvRows(join(rate, "summary.csv"));
    expect(rateRow!.isl).toBe("40");

    // the trace point replays the trace's 4 requests
    expect((await readJsonl<RequestRecord>(join(run, folders[2]!, "requests.jsonl"))).length).toBe(4);
  }, 120_000);
});

describe("input × output length grids", () => {
  test("inputLens × outputLens × clients: synthetic prompts of each length, rows carry isl and osl", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, `{ inputLens: [32, 256], outputLens: [4, 12], clients: [1, 2], rampUpS: 0, numRequests: 4 }`);
    const result = await runCli(["sweep", config, "--no-progress", "--no-doctor", "--output-dir", join(dir, "result")], { timeoutMs: 110_000 });
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const run = runFolder(join(dir, "result"));
    const rows = csvRows(join(run, "summary.csv"));
    expect(rows.map((row) => `${row.isl}/${row.osl}/${row.num_clients}`)).toEqual(["32/4/1", "32/4/2", "32/12/1", "32/12/2", "256/4/1", "256/4/2", "256/12/1", "256/12/2"]);
    const truth = await readJsonl<TruthEntry>(join(dir, "truth.jsonl"));
    expect(truth.length).toBe(32);
    // what the server was asked to generate and got as prompts follows the grid (the client's tokenizer counts exactly its lengths)
    for (const folder of readdirSync(run).filter((name) => /^\d\d_/.test(name))) {
      const [, isl, osl] = /_isl-(\d+)_osl-(\d+)$/.exec(folder)!;
      const records = await readJsonl<RequestRecord>(join(run, folder, "requests.jsonl"));
      expect(records.length).toBe(4);
      for (const record of records) {
        expect(record.in_tokens).toBe(Number(isl));
        expect(record.out_tokens).toBe(Number(osl));
      }
    }
    expect(truth.map((t) => t.output_tokens).sort((a, b) => a - b)).toEqual([...Array(16).fill(4), ...Array(16).fill(12)]);
    expect(result.stdout).toContain("256 in, 12 out, 2 clients");
  }, 120_000);
});

describe("the sweep command line overrides the config with run's flag names", () => {
  test("--warmup-requests, --output-len, --num-requests, --input-lens and --metric-percentiles reach every point", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, `{ clients: [1, 2], rampUpS: 0, numRequests: 10, warmupRequests: 0 }`, `dataset: { path: ${JSON.stringify(DATASET)}, outputLen: 16 },`);
    const result = await runCli(
      ["sweep", config, "--no-progress", "--no-doctor", "--output-dir", join(dir, "result"), "--warmup-requests", "2", "--num-requests", "3", "--output-lens", "5", "--metric-percentiles", "95"],
      { timeoutMs: 110_000 },
    );
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const run = runFolder(join(dir, "result"));
    const rows = csvRows(join(run, "summary.csv"));
    expect(rows.map((row) => [row.num_clients, row.completed, row.osl])).toEqual([["1", "3", "5"], ["2", "3", "5"]]);
    expect(Object.keys(rows[0]!)).toContain("p95_ttft");
    const truth = await readJsonl<TruthEntry>(join(dir, "truth.jsonl"));
    expect(truth.length).toBe(2 * (3 + 2)); // each point: 3 measured, 2 warm-ups
    for (const entry of truth) expect(entry.output_tokens).toBe(5);
  }, 120_000);

  test("a bad override names the flag; an override of the config's axis says to change the axis; nothing is launched", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, `{ clients: [1, 2], numRequests: 10 }`, `dataset: { path: ${JSON.stringify(DATASET)} },`);
    const bad = await runCli(["sweep", config, "--no-doctor", "--warmup-requests", "-1", "--output-dir", join(dir, "result")]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--warmup-requests: expected a non-negative integer, got -1");
    const axis = await runCli(["sweep", config, "--no-doctor", "--num-clients", "4", "--output-dir", join(dir, "result")]);
    expect(axis.exitCode).toBe(2);
    expect(axis.stderr).toContain("--num-clients: the config sweeps sweep.clients: give --clients to change the axis");
    const field = writeConfig(dir, `{ clients: [1], numRequests: 10, warmupRequests: "many" }`, `dataset: { path: ${JSON.stringify(DATASET)} },`);
    const named = await runCli(["sweep", field, "--no-doctor", "--output-dir", join(dir, "result")]);
    expect(named.exitCode).toBe(2);
    expect(named.stderr).toContain('sweep.warmupRequests: expected a non-negative integer, got "many"');
    expect(() => readdirSync(join(dir, "result"))).toThrow();
  }, 60_000);
});

describe("--model is optional where the server leaves no doubt", () => {
  test("an OpenAI server listing one model is asked about it; a protocol naming no model runs without one", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    const mock = await startMock(["--protocol", "vllm,tgi", "--ttft-ms", "5", "--itl-ms", "2", "--model", "only-model", "--truth-log", truthPath]);
    try {
      const vllm = await runCli(["run", "--backend", "vllm", "--base-url", mock.urls.vllm!, "--dataset-path", DATASET, "--num-requests", "3", "--output-len", "4", "--no-progress", "--result-dir", join(dir, "vllm")]);
      expect(vllm.stderr).toBe("");
      expect(vllm.exitCode).toBe(0);
      expect(vllm.stdout).toContain("model only-model");
      expect(readJson(join(dir, "vllm", "summary.json")).model).toBe("only-model");
      const tgi = await runCli(["run", "--backend", "tgi", "--base-url", mock.urls.tgi!, "--dataset-path", DATASET, "--num-requests", "2", "--output-len", "4", "--no-progress", "--result-dir", join(dir, "tgi")]);
      expect(tgi.exitCode).toBe(0);
      expect(readJson(join(dir, "tgi", "summary.json")).completed).toBe(2);
    } finally {
      await mock.stop();
    }
    expect((await readJsonl<TruthEntry>(truthPath)).length).toBe(5);
  }, 60_000);

  test("a server listing several models: a clear error naming --model and the models, before any request", async () => {
    let generations = 0;
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        const path = new URL(request.url).pathname;
        if (path === "/v1/models") return Response.json({ object: "list", data: [{ id: "llama-8b" }, { id: "qwen-7b" }] });
        if (path === "/health") return new Response(null, { status: 200 });
        generations++;
        return new Response("no", { status: 500 });
      },
    });
    try {
      const result = await runCli(["run", "--base-url", `http://127.0.0.1:${server.port}`, "--dataset-path", DATASET, "--num-requests", "2", "--no-progress", "--result-dir", join(tempDir(), "r")]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`--model is required: the server at http://127.0.0.1:${server.port} lists 2 models (llama-8b, qwen-7b): give --model NAME`);
      expect(generations).toBe(0);
    } finally {
      server.stop(true);
    }
  }, 60_000);
});
