import { describe, expect, test } from "bun:test";
import { joinGoodputValues, unknownOptions } from "../src/config/argv-check.ts";
import { nearestName } from "../src/config/field-checks.ts";
import { parseGoodput } from "../src/config/goodput-flag.ts";
import { parseExtraBody, parseHeaders, parsePercentiles, parseThresholds } from "../src/config/knob-flags.ts";
import { parseRunOptions } from "../src/config/run-options.ts";
import { mergeBody } from "../src/backends/http-generation.ts";
import { describe as describeValues } from "../src/metrics/stats.ts";
import { summarize } from "../src/metrics/summarize.ts";
import type { RequestStats } from "../src/metrics/request-stats.ts";
import { checkThresholds } from "../src/report/thresholds.ts";
import { vllmResult, vllmResultFilename } from "../src/report/vllm-result.ts";
import { join } from "node:path";
import { runCli } from "./helpers/cli.ts";

describe("the command line: unknown options", () => {
  test("every unknown option at once, as typed, with the nearest known one; exit 2 before anything runs", async () => {
    const run = await runCli(["run", "--dataset-nam", "random", "--num-prompt", "20", "--save-reslt", "--frobnicate", "--model", "m"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain("unknown option --dataset-nam (did you mean --dataset-name?)");
    expect(run.stderr).toContain("unknown option --num-prompt (did you mean --num-prompts?)");
    expect(run.stderr).toContain("unknown option --save-reslt (did you mean --save-result?)");
    expect(run.stderr).toMatch(/unknown option --frobnicate\n/);
    expect(run.stderr).toContain("llmbench run --help lists the options");
    expect(run.stderr).not.toContain("Unknown option `");
  }, 30_000);

  test("sweep's and mock's options are checked against their own lists", async () => {
    const sweep = await runCli(["sweep", "bench.config.ts", "--client", "1,4"]);
    expect(sweep.exitCode).toBe(2);
    expect(sweep.stderr).toContain("unknown option --client (did you mean --clients?)");
    const mock = await runCli(["mock", "--ttft", "5"]);
    expect(mock.exitCode).toBe(2);
    expect(mock.stderr).toContain("unknown option --ttft (did you mean --ttft-ms?)");
  }, 30_000);

  test("the checker: values, negative numbers, --no- options, --x=y and everything after -- pass", () => {
    const known = ["--num-clients", "--no-progress", "--seed", "-h", "--help"];
    expect(unknownOptions(["--num-clients", "-1", "--no-progress", "--seed=3", "-h", "--", "--anything"], known)).toEqual([]);
    expect(unknownOptions(["--numClients", "4"], known)).toEqual([]); // cac's camelCase spelling keeps working
    expect(unknownOptions(["--sed", "3", "--sed", "4", "-x"], known)).toEqual(["--sed", "-x"]);
  });

  test("did you mean: completions, then a few edits apart, else nothing", () => {
    const known = ["--dataset", "--dataset-path", "--dataset-name", "--num-requests", "--seed"];
    expect(nearestName("--dataset-nam", known)).toBe("--dataset-name");
    expect(nearestName("--num-reqests", known)).toBe("--num-requests");
    expect(nearestName("--sede", known)).toBe("--seed");
    expect(nearestName("--completely-else", known)).toBeNull();
  });

  test("vLLM's --goodput ttft:200 tpot:50 (several values) is one value, and e2el is e2e", () => {
    expect(joinGoodputValues(["run", "--goodput", "ttft:200", "tpot:50", "--seed", "1"])).toEqual(["run", "--goodput=ttft:200,tpot:50", "--seed", "1"]);
    expect(parseGoodput("--goodput", "ttft:200,tpot:50,e2el:900")).toEqual({ ttft: 200, tpot: 50, e2e: 900 });
  });

  test("help pages: grouped options with examples; server lists its actions; --no-progress reads the right way round", async () => {
    const run = await runCli(["run", "--help"]);
    expect(run.exitCode).toBe(0);
    for (const group of ["Server options:", "Workload options:", "Dataset options:", "Output options:", "Examples:"]) expect(run.stdout).toContain(group);
    expect(run.stdout.indexOf("Workload options:")).toBeLessThan(run.stdout.indexOf("--num-clients"));
    expect(run.stdout).toMatch(/--no-progress\s+Turn off the live progress line \(shown by default\)\n/);
    const server = await runCli(["server", "--help"]);
    for (const action of ["server start", "server status", "server stop"]) expect(server.stdout).toContain(action);
  }, 30_000);
});

describe("vLLM flags mean what they mean to vLLM", () => {
  const base = { backend: "vllm", model: "m" };

  test("--dataset-name random with vLLM's defaults; --num-prompts alone sends all at once; --host/--port/--endpoint", () => {
    const options = parseRunOptions({ ...base, datasetName: "random", numPrompts: 10, host: "localhost", port: 9001, endpoint: "/v1/chat/completions" });
    expect(options.dataset).toBe("synthetic");
    expect(options.synthetic).toMatchObject({ inputLen: 1024, prefixLen: 0, rangeRatio: 0 });
    expect(options.outputLen).toBe(128);
    expect(options.numRequests).toBe(10);
    expect(options.requestRate).toBe(Infinity);
    expect(options.baseUrl).toBe("http://localhost:9001");
    expect(options.backend).toBe("openai-chat");
  });

  test("--max-concurrency alone caps rate inf; with --num-clients it is still refused", () => {
    expect(parseRunOptions({ ...base, datasetPath: "d.json", numRequests: 5, maxConcurrency: 2 }).requestRate).toBe(Infinity);
    expect(() => parseRunOptions({ ...base, datasetPath: "d.json", numRequests: 5, maxConcurrency: 2, numClients: 3 })).toThrow("--max-concurrency caps a --request-rate run");
  });

  test("contradictions and misplaced flags are usage errors naming the flags", () => {
    expect(() => parseRunOptions({ ...base, datasetName: "random", randomInputLen: 10, inputLen: 20, numRequests: 1 })).toThrow("--input-len and --random-input-len");
    expect(() => parseRunOptions({ ...base, datasetPath: "d.json", randomInputLen: 10, numRequests: 1 })).toThrow("--random-input-len applies to --dataset-name random");
    expect(() => parseRunOptions({ ...base, datasetName: "random", randomRangeRatio: 1, numRequests: 1 })).toThrow("--random-range-ratio: expected a number in [0, 1)");
    expect(() => parseRunOptions({ ...base, datasetName: "sharegpt", numRequests: 1 })).toThrow("--dataset-name sharegpt needs --dataset-path");
    expect(() => parseRunOptions({ ...base, datasetPath: "d.json", numRequests: 1, endpoint: "/generate" })).toThrow("--endpoint: expected /v1/completions or /v1/chat/completions");
    expect(() => parseRunOptions({ ...base, datasetPath: "d.json", numRequests: 1, baseUrl: "http://x:1", port: 2 })).toThrow("--base-url and --host/--port");
    expect(() => parseRunOptions({ ...base, backend: "tgi", datasetPath: "d.json", numRequests: 1, temperature: 0.7 })).toThrow("--temperature is sent by the OpenAI backends");
    expect(() => parseRunOptions({ ...base, datasetPath: "d.json", numRequests: 1, percentileMetrics: "ttft" })).toThrow("add --save-result");
  });

  test("sampling flags join --extra-body; --save-detailed implies --save-result with vLLM's default percentile", () => {
    const options = parseRunOptions({ ...base, datasetPath: "d.json", numRequests: 1, temperature: 0.5, topK: 20, extraBody: '{"seed": 1}', saveDetailed: true });
    expect(options.extraBody).toEqual({ seed: 1, temperature: 0.5, top_k: 20 });
    expect(options.saveResult).toEqual({ dir: null, filename: null, detailed: true, metrics: ["ttft", "tpot", "itl"], percentiles: [99] });
  });
});

describe("knobs", () => {
  test("percentiles: a list in (0, 100], deduplicated", () => {
    expect(parsePercentiles("--metric-percentiles", "50,90, 99.9,50")).toEqual([50, 90, 99.9]);
    expect(() => parsePercentiles("--metric-percentiles", "0,50")).toThrow('--metric-percentiles: expected percentiles in (0, 100] such as 50,90,99,99.9, got "0"');
    expect(() => parsePercentiles("--metric-percentiles", "p99")).toThrow('got "p99"');
  });

  test("chosen percentiles are numpy-linear, hand-computed", () => {
    // 1..10: rank (n-1)p/100; p95 → 8.55 → 9 + 0.55 × 1 = 9.55; p50 → 5.5; p99.9 → 8.991 → 9.991
    const d = describeValues([10, 9, 8, 7, 6, 5, 4, 3, 2, 1], [50, 95, 99.9])!;
    expect(d.percentiles).toEqual({ "50": 5.5, "95": 9.55, "99.9": expect.closeTo(9.991, 9) as unknown as number });
    expect(describeValues([1, 2])!.percentiles).toBeUndefined(); // none chosen: the seed's statistics only
  });

  test("extra body: objects merge field by field; measured fields are refused at any depth", () => {
    expect(mergeBody({ a: 1, parameters: { max_new_tokens: 4, x: 1 } }, { parameters: { x: 2, y: 3 }, b: [1] })).toEqual({ a: 1, parameters: { max_new_tokens: 4, x: 2, y: 3 }, b: [1] });
    expect(() => parseExtraBody("--extra-body", '{"sampling_params": {"min_new_tokens": 1}}')).toThrow('"sampling_params.min_new_tokens" changes what is measured');
    expect(() => parseExtraBody("--extra-body", "[1]")).toThrow("expected a JSON object");
    expect(parseExtraBody("--extra-body", '{"lora": "a"}')).toEqual({ lora: "a" });
  });

  test("headers: 'Name: value', repeatable, names lower-cased; llmbench's own and the key are refused", () => {
    expect(parseHeaders("--header", ["X-A: 1", "x-b:two: three"])).toEqual({ "x-a": "1", "x-b": "two: three" });
    expect(() => parseHeaders("--header", "no colon")).toThrow("expected 'Name: value'");
    expect(() => parseHeaders("--header", "Content-Type: text/plain")).toThrow("content-type is set by llmbench itself");
  });

  test("thresholds: parsed as k6 writes them and checked against a row; unmeasured fails", () => {
    const thresholds = parseThresholds("--threshold", ["p99_ttft < 2000", "success_rate>=0.99", "p95_itl<=5", "goodput>1"]);
    expect(thresholds.map((t) => [t.metric, t.operator, t.limit])).toEqual([["p99_ttft", "<", 2000], ["success_rate", ">=", 0.99], ["p95_itl", "<=", 5], ["goodput", ">", 1]]);
    const results = checkThresholds(thresholds, { p99_ttft: 2000, success_rate: 0.99, p95_itl: 4, goodput: null });
    expect(results.map((r) => r.ok)).toEqual([false, true, true, false]);
    expect(results[3]!.value).toBeNull();
    expect(() => parseThresholds("--threshold", "mode<1")).toThrow('"mode" is not a summary metric');
  });
});

describe("the vLLM result: reshaped, nothing computed", () => {
  const request = (ttft: number, itl: number[], out: number, ok = true): RequestStats => ({
    sent: true, ok, error: ok ? null : "boom", sendMs: 0, doneMs: 0, queueWaitMs: 0, turn: 0, inTokens: 10, serverInTokens: null,
    outTokens: out, short: false, ttft: ok ? ttft : null, e2e: ok ? ttft + itl.reduce((a, b) => a + b, 0) : null,
    tpot: ok && out > 1 ? itl.reduce((a, b) => a + b, 0) / (out - 1) : null, itl: Float32Array.from(itl), tokenEvents: out,
    ttftContent: ok ? ttft : null, reasoningTokens: 0, answerTokens: out, thinkingMs: null,
  });

  test("keys, units and per-request lists", () => {
    const requests = [request(100, [10, 20], 3), request(200, [30], 2), request(0, [], 0, false)];
    const summary = summarize(requests, [50, 99.9]);
    const input = {
      summary, requests, goodput: null, backend: "vllm", model: "org/model-7b", tokenizer: "cl100k_base", numPrompts: 3, requestRate: Infinity,
      burstiness: 1, maxConcurrency: 2, metrics: ["ttft", "e2el"] as const, percentiles: [99, 99.9], detailed: true, date: new Date(2025, 0, 31, 14, 25, 1),
    };
    const result = vllmResult(input);
    expect(result.completed).toBe(2);
    expect(result.request_rate).toBe("inf");
    expect(result.mean_ttft_ms).toBe(150);
    expect(result.median_ttft_ms).toBe(150);
    expect(result.std_ttft_ms).toBe(50);
    expect(result.p99_ttft_ms).toBe(summary.ttft!.p99);
    expect(result["p99.9_ttft_ms"]).toBe(summary.ttft!.percentiles!["99.9"]);
    expect(result.mean_e2el_ms).toBe(summary.e2e!.mean);
    expect(result).not.toHaveProperty("mean_tpot_ms");
    expect(result.ttfts).toEqual([0.1, 0.2, 0]);
    expect(result.itls).toEqual([[0.01, 0.02], [0.03], []]);
    expect(result.output_lens).toEqual([3, 2, 0]);
    expect(result.errors).toEqual(["", "", "boom"]);
    expect(result.date).toBe("20250131-142501");
    expect(vllmResultFilename(input, 1)).toBe("vllm-infqps-concurrency2-model-7b-20250131-142501.json");
    expect(vllmResultFilename({ ...input, requestRate: 4, maxConcurrency: null }, 1)).toBe("vllm-4.0qps-model-7b-20250131-142501.json");
  });
});

describe("history and compare --json", () => {
  test("the runs and the point-by-point comparison as JSON, read from history.db", async () => {
    const { RunHistory } = await import("../src/archive/history.ts");
    const { tempDir } = await import("./helpers/cli.ts");
    const dir = tempDir();
    const history = RunHistory.open(dir, { create: true })!;
    const base = { dir: "/tmp/x", backend: "vllm", model: "m", model_size: 7, tp: 1, mode: "", dataset: "d.json", points_planned: 1, llmbench_version: "0", host: "h", pid: null, pid_start: null };
    for (const [index, qps] of [[0, 10], [1, 12]] as const) {
      const id = history.beginRun({ ...base, name: `2025-01-0${index + 1}/120000_vllm_m`, started_at: `2025-01-0${index + 1}T12:00:00.000Z` });
      history.recordPoint(id, { index: 0, point: { kind: "clients", clients: 4, rampUpS: 0 }, key: "clients=4", folder: "01", status: "done", reason: null, row: { qps, o_tps: qps * 100, mean_ttft: 50 }, summary: null });
      history.finishRun(id, { ended_at: `2025-01-0${index + 1}T12:01:00.000Z`, status: "completed", exit_code: 0, reason: null });
    }
    history.close();
    const listed = await runCli(["history", "--json", "--output-dir", dir]);
    expect(listed.exitCode).toBe(0);
    const runs = JSON.parse(listed.stdout);
    expect(runs.map((run: { id: number; best_o_tps: number; status: string }) => [run.id, run.best_o_tps, run.status])).toEqual([[2, 1200, "completed"], [1, 1000, "completed"]]);
    const compared = await runCli(["compare", "1", "latest", "--json", "--output-dir", dir]);
    expect(compared.exitCode).toBe(0);
    const comparison = JSON.parse(compared.stdout);
    expect(comparison.a.id).toBe(1);
    expect(comparison.b.id).toBe(2);
    expect(comparison.points[0].point).toBe("clients=4");
    expect(comparison.points[0].metrics.qps).toEqual({ a: 10, b: 12, change_percent: expect.closeTo(20, 9) as unknown as number });
    expect(comparison.points[0].metrics.p99_ttft).toEqual({ a: null, b: null, change_percent: null });
    const empty = await runCli(["history", "--json", "--output-dir", join(dir, "none")]);
    expect(empty.stdout.trim()).toBe("[]");
  }, 30_000);
});
