import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SEED_COLUMNS } from "../src/report/seed-columns.ts";
import { CSV_COLUMNS } from "../src/report/csv.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

/** Thresholds (exit code 3), chosen percentiles in every output, and --extra-body / --header reaching each HTTP backend. */

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = ((sorted.length - 1) * p) / 100;
  const low = Math.floor(rank);
  return sorted[low]! + (sorted[Math.ceil(rank)]! - sorted[low]!) * (rank - low);
}

describe("thresholds and percentiles against llmbench mock", () => {
  let mock: MockHandle;
  let dir: string;
  const base = () => ["run", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET, "--num-clients", "4", "--num-requests", "16", "--output-len", "8", "--no-progress"];

  beforeAll(async () => {
    dir = tempDir();
    mock = await startMock(["--ttft-ms", "20", "--itl-ms", "3"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("thresholds that hold: exit 0, each listed in the console and summary.json", async () => {
    const run = await runCli([...base(), "--result-dir", join(dir, "pass"), "--threshold", "p99_ttft<600000", "--threshold", "success_rate>=1", "--threshold", "p95_e2e < 600000"]);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/threshold\s+ok\s+p99_ttft<600000/);
    const summary = await Bun.file(join(dir, "pass/summary.json")).json();
    expect(summary.thresholds.map((t: { threshold: string; ok: boolean }) => [t.threshold, t.ok])).toEqual([
      ["p99_ttft<600000", true], ["success_rate>=1", true], ["p95_e2e<600000", true],
    ]);
    expect(summary.thresholds[0].value).toBe(summary.p99_ttft);
    expect(summary.thresholds[2].value).toBe(summary.p95_e2e); // a threshold's percentile is computed for it
    expect(summary.thresholds_ok).toBe(true);
  }, 60_000);

  test("a threshold that fails: exit 3, named in the console and summary.json with the measured value", async () => {
    const run = await runCli([...base(), "--result-dir", join(dir, "fail"), "--threshold", "mean_ttft<0.001", "--threshold", "completed>=1"]);
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toMatch(/threshold\s+FAILED mean_ttft<0.001 \(\d/);
    const summary = await Bun.file(join(dir, "fail/summary.json")).json();
    expect(summary.thresholds[0]).toEqual({ threshold: "mean_ttft<0.001", value: summary.mean_ttft, ok: false });
    expect(summary.thresholds[1].ok).toBe(true);
    expect(summary.thresholds_ok).toBe(false);
  }, 60_000);

  test("a malformed threshold or an unknown metric is a usage error before any request", async () => {
    const bad = await runCli([...base(), "--result-dir", join(dir, "bad"), "--threshold", "p99_ttft<<x"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("--threshold: expected <metric><op><number>");
    const unknown = await runCli([...base(), "--result-dir", join(dir, "bad"), "--threshold", "p99_tfft<5"]);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('"p99_tfft" is not a summary metric');
  }, 60_000);

  test("--metric-percentiles: in summary.json, the console and the CSV (seed columns first and unchanged), from the records", async () => {
    const run = await runCli([...base(), "--result-dir", join(dir, "pct"), "--metric-percentiles", "50,95,99.9"]);
    expect(run.exitCode).toBe(0);
    const summary = await Bun.file(join(dir, "pct/summary.json")).json();
    const records = await readJsonl<{ ttft_ms: number; e2e_ms: number }>(join(dir, "pct/requests.jsonl"));
    const ttfts = records.map((r) => r.ttft_ms);
    expect(summary.p50_ttft).toBeCloseTo(percentile(ttfts, 50), 9);
    expect(summary.p95_ttft).toBeCloseTo(percentile(ttfts, 95), 9);
    expect(summary["p99.9_ttft"]).toBeCloseTo(percentile(ttfts, 99.9), 9);
    expect(summary["p99.9_e2e"]).toBeCloseTo(percentile(records.map((r) => r.e2e_ms), 99.9), 9);
    expect(summary.p99_ttft).toBeCloseTo(percentile(ttfts, 99), 9); // the seed's stay
    const [header, line] = readFileSync(join(dir, "pct/summary.csv"), "utf8").trim().split("\n");
    const columns = header!.split(",");
    expect(columns.slice(0, SEED_COLUMNS.length)).toEqual([...SEED_COLUMNS]);
    expect(columns.slice(0, CSV_COLUMNS.length)).toEqual([...CSV_COLUMNS]);
    expect(columns.slice(CSV_COLUMNS.length)).toEqual(["p50_ttft", "p95_ttft", "p99.9_ttft", "p50_tpot", "p95_tpot", "p99.9_tpot", "p50_e2e", "p95_e2e", "p99.9_e2e", "p50_itl", "p95_itl", "p99.9_itl"]);
    expect(Number(line!.split(",")[columns.indexOf("p95_ttft")])).toBeCloseTo(summary.p95_ttft, 2);
    expect(run.stdout).toMatch(/mean\s+median\s+p90\s+p99\s+p95\s+p99\.9\s+min/);
  }, 60_000);

  test("without --metric-percentiles the CSV is exactly the usual columns", async () => {
    const run = await runCli([...base(), "--result-dir", join(dir, "plain")]);
    expect(run.exitCode).toBe(0);
    const header = readFileSync(join(dir, "plain/summary.csv"), "utf8").split("\n")[0]!;
    expect(header.split(",")).toEqual([...CSV_COLUMNS]);
  }, 60_000);
});

describe("--extra-body and --header reach every HTTP backend", () => {
  const PROTOCOLS = ["vllm", "openai-chat", "lightllm", "sglang", "tgi", "llamacpp", "trtllm"];
  let mock: MockHandle;
  let dir: string;

  beforeAll(async () => {
    dir = tempDir();
    mock = await startMock(["--protocol", PROTOCOLS.join(","), "--ttft-ms", "5", "--itl-ms", "1", "--request-log", join(dir, "seen.jsonl")]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("each backend's requests carry the headers and the extra fields, merged into nested objects", async () => {
    for (const backend of PROTOCOLS) {
      const run = await runCli([
        "run", "--backend", backend, "--base-url", mock.urls[backend]!, "--model", "mock-model", "--dataset-path", DATASET,
        "--num-requests", "2", "--output-len", "4", "--no-progress", "--result-dir", join(dir, backend),
        "--extra-body", JSON.stringify({ chat_template_kwargs: { enable_thinking: false }, parameters: { repetition_penalty: 1.1 }, sampling_params: { top_k: 7 } }),
        "--header", "X-Route: pool-a", "--header", "x-trace-id: abc 123",
      ]);
      if (run.exitCode !== 0) console.error(backend, run.stdout, run.stderr);
      expect(run.exitCode).toBe(0);
    }
    const seen = await readJsonl<{ path: string; headers: Record<string, string>; body: Record<string, Record<string, unknown>> }>(join(dir, "seen.jsonl"));
    const generations = seen.filter((entry) => entry.body !== null);
    expect(generations.length).toBe(PROTOCOLS.length * 2); // two requests each (health checks are GETs)
    for (const entry of generations) {
      expect(entry.headers["x-route"]).toBe("pool-a");
      expect(entry.headers["x-trace-id"]).toBe("abc 123");
      expect(entry.body.chat_template_kwargs).toEqual({ enable_thinking: false });
      expect(entry.body.parameters?.repetition_penalty).toBe(1.1);
      expect(entry.body.sampling_params?.top_k).toBe(7);
    }
    // the backends' own nested length fields survived the merge
    const lightllm = generations.find((entry) => entry.path === "/generate_stream" && entry.body.parameters?.max_new_tokens !== undefined);
    expect(lightllm?.body.parameters?.max_new_tokens).toBe(4);
    const sglang = generations.find((entry) => entry.path === "/generate" && entry.body.sampling_params?.max_new_tokens !== undefined);
    expect(sglang?.body.sampling_params?.max_new_tokens).toBe(4);
  }, 120_000);

  test("a body field that changes what is measured is refused, naming it", async () => {
    const args = ["run", "--base-url", mock.urls.vllm!, "--dataset-path", DATASET, "--num-requests", "2", "--no-progress", "--result-dir", join(dir, "refused")];
    for (const [body, field] of [[{ max_tokens: 5 }, "max_tokens"], [{ stream: false }, "stream"], [{ parameters: { max_new_tokens: 3 } }, "parameters.max_new_tokens"]] as const) {
      const run = await runCli([...args, "--extra-body", JSON.stringify(body)]);
      expect(run.exitCode).toBe(2);
      expect(run.stderr).toContain(`--extra-body: "${field}" changes what is measured`);
    }
    const notJson = await runCli([...args, "--extra-body", "{top_k: 3}"]);
    expect(notJson.exitCode).toBe(2);
    expect(notJson.stderr).toContain("--extra-body: expected a JSON object");
    const auth = await runCli([...args, "--header", "Authorization: Bearer x"]);
    expect(auth.exitCode).toBe(2);
    expect(auth.stderr).toContain("--api-key-env");
  }, 60_000);
});

describe("sweep: thresholds, percentiles, extra body and headers from the config and the command line", () => {
  function writeConfig(dir: string): string {
    const path = join(dir, "bench.config.ts");
    writeFileSync(
      path,
      `import { defineConfig, freePort } from "llmbench";
const port = freePort();
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim-7b", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      launch: { command: (config, server) => [...server.llmbench, "mock", "--port", String(server.port), "--ttft-ms", "5", "--itl-ms", "1", "--request-log", ${JSON.stringify(join(dir, "seen.jsonl"))}], readyTimeoutS: 30, stopGraceS: 3 },
      extraBody: { chat_template_kwargs: { enable_thinking: false } },
      headers: { "X-Route": "pool-a" },
    },
  },
  dataset: { path: ${JSON.stringify(DATASET)}, outputLen: 4 },
  sweep: { clients: [1, 2], rampUpS: 0, numRequests: 4, drainTimeoutS: 5, metricPercentiles: [50, 95], thresholds: ["success_rate>=1"] },
});
`,
    );
    return path;
  }

  test("config knobs apply at every point; a failing command-line threshold makes the exit code 3", async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const run = await runCli(["sweep", config, "--output-dir", join(dir, "result"), "--no-progress", "--threshold", "mean_ttft<0.001", "--header", "X-Trace: t", "--temperature", "0.3"]);
    expect(run.exitCode).toBe(3);
    expect(run.stdout).toMatch(/threshold\s+ok\s+success_rate>=1/);
    expect(run.stdout).toMatch(/threshold\s+FAILED mean_ttft<0.001/);
    const latest = join(dir, "result/latest");
    const [header] = readFileSync(join(latest, "summary.csv"), "utf8").split("\n");
    expect(header!.split(",").slice(-8)).toEqual(["p50_ttft", "p95_ttft", "p50_tpot", "p95_tpot", "p50_e2e", "p95_e2e", "p50_itl", "p95_itl"]);
    const point = await Bun.file(join(latest, "01_clients-1/summary.json")).json();
    expect(point.thresholds.map((t: { threshold: string; ok: boolean }) => [t.threshold, t.ok])).toEqual([["success_rate>=1", true], ["mean_ttft<0.001", false]]);
    expect(typeof point.p95_ttft).toBe("number");
    const seen = await readJsonl<{ headers: Record<string, string>; body: Record<string, unknown> }>(join(dir, "seen.jsonl"));
    expect(seen.length).toBe(8);
    for (const entry of seen) {
      expect(entry.headers["x-route"]).toBe("pool-a");
      expect(entry.headers["x-trace"]).toBe("t");
      expect(entry.body.chat_template_kwargs).toEqual({ enable_thinking: false });
      expect(entry.body.temperature).toBe(0.3);
    }
  }, 90_000);

  test("a config knob that is wrong is named with its field, with the config's other problems", async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    writeFileSync(config, readFileSync(config, "utf8").replace(`thresholds: ["success_rate>=1"]`, `thresholds: ["p99_tfft<1"]`).replace("enable_thinking: false } }", "enable_thinking: false }, max_tokens: 3 }"));
    const run = await runCli(["sweep", config, "--output-dir", join(dir, "result"), "--no-progress"]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toContain('servers.vllm.extraBody: "max_tokens" changes what is measured');
    expect(run.stderr).toContain('sweep.thresholds: "p99_tfft" is not a summary metric');
  }, 60_000);
});
