import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS, mean } from "./helpers/truth.ts";

/** vllm bench serve's command line, run against the simulator; its saved JSON read back with vLLM's keys. */

interface TruthEntry {
  arrival_ms: number;
  token_ms: number[];
  output_tokens: number;
  status: string;
}

interface Logged {
  path: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
}

interface RecordLine {
  status: string;
  send_ms: number;
  ttft_ms: number;
  e2e_ms: number;
  in_tokens: number;
  out_tokens: number;
}

/** numpy's linear percentile, computed here by hand from the records. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = ((sorted.length - 1) * p) / 100;
  const low = Math.floor(rank);
  return sorted[low]! + (sorted[Math.ceil(rank)]! - sorted[low]!) * (rank - low);
}

const close = (a: number, b: number) => expect(Math.abs(a - b)).toBeLessThan(1e-6 * Math.max(1, Math.abs(b)));

describe("vllm bench serve's flags: --dataset-name random … --save-result --save-detailed", () => {
  let mock: MockHandle;
  let dir: string;
  let result: Record<string, unknown>;
  let records: RecordLine[];
  let truth: TruthEntry[];
  let logged: Logged[];
  let exitCode: number;
  let stdout: string;

  beforeAll(async () => {
    dir = tempDir();
    mock = await startMock(["--ttft-ms", "30", "--itl-ms", "4", "--truth-log", join(dir, "truth.jsonl"), "--request-log", join(dir, "requests-seen.jsonl")]);
    const port = new URL(mock.url).port;
    const run = await runCli([
      "run", "--backend", "vllm", "--host", "127.0.0.1", "--port", port, "--endpoint", "/v1/completions", "--model", "mock-model",
      "--dataset-name", "random", "--random-input-len", "64", "--random-output-len", "16", "--random-range-ratio", "0.25", "--random-prefix-len", "8",
      "--num-prompts", "24", "--max-concurrency", "4", "--request-rate", "200", "--burstiness", "1", "--ignore-eos", "--seed", "3",
      "--temperature", "0.5", "--top-p", "0.9", "--top-k", "20",
      "--percentile-metrics", "ttft,tpot,itl,e2el", "--metric-percentiles", "50,90,99,99.9", "--goodput", "ttft:60000", "tpot:60000",
      "--save-result", "--save-detailed", "--result-dir", join(dir, "result"), "--result-filename", "vllm.json", "--no-progress",
    ]);
    exitCode = run.exitCode;
    stdout = run.stdout;
    if (exitCode !== 0) console.error(run.stdout, run.stderr);
    result = await Bun.file(join(dir, "result/vllm.json")).json();
    records = await readJsonl<RecordLine>(join(dir, "result/requests.jsonl"));
    truth = await readJsonl<TruthEntry>(join(dir, "truth.jsonl"));
    logged = await readJsonl<Logged>(join(dir, "requests-seen.jsonl"));
  }, 90_000);
  afterAll(async () => {
    await mock?.stop();
  });

  test("the run succeeds and writes vLLM's keys", () => {
    expect(exitCode).toBe(0);
    expect(stdout).toContain("vllm.json");
    for (const key of ["date", "backend", "model_id", "num_prompts", "request_rate", "burstiness", "max_concurrency", "duration", "completed",
      "total_input_tokens", "total_output_tokens", "request_throughput", "request_goodput", "output_throughput", "total_token_throughput"]) {
      expect(result).toHaveProperty(key);
    }
    for (const metric of ["ttft", "tpot", "itl", "e2el"]) {
      for (const stat of ["mean", "median", "std", "p50", "p90", "p99", "p99.9"]) expect(typeof result[`${stat}_${metric}_ms`]).toBe("number");
    }
    expect(result.num_prompts).toBe(24);
    expect(result.request_rate).toBe(200);
    expect(result.max_concurrency).toBe(4);
  });

  test("counts are the simulator's: completed, output tokens, per-request lengths", () => {
    const served = truth.filter((entry) => entry.status === "ok");
    expect(result.completed).toBe(served.length);
    expect(result.completed).toBe(24);
    expect(result.total_output_tokens).toBe(served.reduce((sum, entry) => sum + entry.output_tokens, 0));
    expect([...(result.output_lens as number[])].sort()).toEqual(served.map((entry) => entry.output_tokens).sort());
    expect([...(result.input_lens as number[])].sort()).toEqual(records.map((r) => r.in_tokens).sort());
    expect(result.total_input_tokens).toBe(records.reduce((sum, r) => sum + r.in_tokens, 0));
  });

  test("the random dataset's lengths: uniform in L(1 ± r), input after the shared prefix", () => {
    for (const length of result.input_lens as number[]) {
      expect(length).toBeGreaterThanOrEqual(8 + 48);
      expect(length).toBeLessThanOrEqual(8 + 80);
    }
    const outputs = result.output_lens as number[];
    for (const length of outputs) {
      expect(length).toBeGreaterThanOrEqual(12);
      expect(length).toBeLessThanOrEqual(20);
    }
    expect(new Set(outputs).size).toBeGreaterThan(1); // drawn, not fixed
    // each request asked for its drawn length, exactly
    expect(logged.map((entry) => entry.body.max_tokens as number).sort()).toEqual([...outputs].sort());
  });

  test("statistics are the records' (numpy-linear), and the records are the simulator's timing seen from the client", () => {
    const ttfts = records.map((r) => r.ttft_ms);
    close(result.mean_ttft_ms as number, mean(ttfts));
    close(result.median_ttft_ms as number, percentile(ttfts, 50));
    close(result["p99.9_ttft_ms"] as number, percentile(ttfts, 99.9));
    close(result.p90_e2el_ms as number, percentile(records.map((r) => r.e2e_ms), 90));
    expect([...(result.ttfts as number[])].map((s) => s * 1000).sort((a, b) => a - b).map((v) => v.toFixed(6))).toEqual(
      [...ttfts].sort((a, b) => a - b).map((v) => v.toFixed(6)),
    );
    const serverTtft = mean(truth.map((t) => t.token_ms[0]! - t.arrival_ms));
    expect((result.mean_ttft_ms as number) - serverTtft).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
    expect((result.mean_ttft_ms as number) - serverTtft).toBeLessThan(DELIVERY_TOLERANCE_MS);
    // ITL lists: one per token after the first event, in seconds
    const itls = result.itls as number[][];
    expect(itls.map((list) => list.length).reduce((a, b) => a + b, 0)).toBe((result.total_output_tokens as number) - 24);
    close(result.mean_itl_ms as number, mean(itls.flat()) * 1000);
    close(result.request_goodput as number, result.request_throughput as number); // generous SLOs: every request met them
  });

  test("the cap held: at most 4 requests in flight", async () => {
    const summary = await Bun.file(join(dir, "result/summary.json")).json();
    expect(summary.max_concurrency).toBeLessThanOrEqual(4);
    expect(summary.max_concurrency).toBeGreaterThanOrEqual(1);
  });

  test("sampling flags reached the server in every body; the length is still llmbench's", () => {
    expect(logged.length).toBe(24);
    for (const entry of logged) {
      expect(entry.path).toBe("/v1/completions");
      expect(entry.body.temperature).toBe(0.5);
      expect(entry.body.top_p).toBe(0.9);
      expect(entry.body.top_k).toBe(20);
      expect(entry.body.ignore_eos).toBe(true);
      expect(entry.body.stream).toBe(true);
    }
  });

  test("--dataset-name sharegpt with --sharegpt-output-len asks every request for that length", async () => {
    const run = await runCli([
      "run", "--base-url", mock.url, "--model", "mock-model", "--dataset-name", "sharegpt", "--dataset-path", DATASET,
      "--sharegpt-output-len", "12", "--num-prompts", "6", "--save-result", "--result-dir", join(dir, "sharegpt"), "--no-progress",
    ]);
    expect(run.exitCode).toBe(0);
    const files = [...new Bun.Glob("vllm-*.json").scanSync(join(dir, "sharegpt"))];
    expect(files.length).toBe(1);
    expect(files[0]).toMatch(/^vllm-infqps-mock-model-\d{8}-\d{6}\.json$/);
    const saved = await Bun.file(join(dir, "sharegpt", files[0]!)).json();
    expect(saved.completed).toBe(6);
    expect(saved.total_output_tokens).toBe(72);
    expect(saved).not.toHaveProperty("ttfts"); // not --save-detailed
    expect(saved).toHaveProperty("p99_ttft_ms"); // vLLM's default percentile
    expect(saved).not.toHaveProperty("p99_e2el_ms"); // nor its default metrics
  }, 60_000);
});

describe("records carry the server's request id", () => {
  test("the OpenAI backends keep each stream's id", async () => {
    const dir = tempDir();
    const mock = await startMock(["--protocol", "vllm,openai-chat", "--ttft-ms", "2", "--itl-ms", "1"]);
    try {
      for (const backend of ["vllm", "openai-chat"]) {
        const run = await runCli(["run", "--backend", backend, "--base-url", mock.urls[backend]!, "--model", "mock-model", "--dataset-path", DATASET, "--num-requests", "5", "--output-len", "3", "--no-progress", "--result-dir", join(dir, backend)]);
        expect(run.exitCode).toBe(0);
        const ids = (await readJsonl<{ request_id: string }>(join(dir, backend, "requests.jsonl"))).map((r) => r.request_id);
        expect(ids.length).toBe(5);
        expect(new Set(ids).size).toBe(5);
        for (const id of ids) expect(id).toMatch(/^(cmpl|chatcmpl)-\w+/);
      }
    } finally {
      await mock.stop();
    }
  }, 60_000);
});
