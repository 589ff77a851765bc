import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadBenchConfig, loadConfigModule } from "../src/config/load-config.ts";
import { resolveConfig } from "../src/config/resolve-config.ts";
import { applyOverrides, parseSweepFlags } from "../src/config/sweep-flags.ts";
import { UsageError } from "../src/config/usage-error.ts";
import { settingsForPoint, targetSpecFor } from "../src/sweep/point-spec.ts";
import { resolvedConfigForArchive } from "../src/sweep/archived-config.ts";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";

const CONFIG_PATH = "/configs/bench.config.ts";

function validConfig(): Record<string, any> {
  return {
    backend: "vllm",
    model: { tag: "llama2-7b", sizeB: 7, tp: 2, mode: "fp16", path: "/models/llama-2-7b-hf" },
    servers: {
      vllm: {
        url: "http://127.0.0.1:8000",
        launch: {
          command: (config: any, server: any) => ["python", "-m", "vllm.entrypoints.openai.api_server", "--model", config.model.path, "--port", String(server.port), "-tp", String(config.model.tp)],
          env: { CUDA_VISIBLE_DEVICES: "0,1", HF_TOKEN: "hf_secret_value" },
        },
      },
    },
    dataset: { path: DATASET },
    sweep: { clients: [1, 5, 10], stopTimeS: 300, numRequests: 1024 },
  };
}

function problemsOf(config: unknown): string[] {
  try {
    resolveConfig(config, CONFIG_PATH, ["vllm"]);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message.split("\n").slice(1).map((line) => line.replace(/^ {2}- /, ""));
  }
  throw new Error("the config was accepted");
}

describe("resolving a config", () => {
  test("fills in the defaults, computes the launch command from the config, resolves paths against the config's folder", () => {
    const config = resolveConfig(validConfig(), CONFIG_PATH, ["vllm"]);
    expect(config.model).toEqual({ tag: "llama2-7b", sizeB: 7, tp: 2, mode: "fp16", path: "/models/llama-2-7b-hf", tokenizerPath: null, name: "/models/llama-2-7b-hf" });
    expect(config.launch!.command).toEqual(["python", "-m", "vllm.entrypoints.openai.api_server", "--model", "/models/llama-2-7b-hf", "--port", "8000", "-tp", "2"]);
    expect(config.launch!.cwd).toBe("/configs");
    expect(config.launch!.readyTimeoutS).toBe(600);
    expect(config.launch!.stopGraceS).toBe(10);
    expect(config.server).toEqual({ url: "http://127.0.0.1:8000", apiKeyEnv: "OPENAI_API_KEY", insecure: false, extraBody: null, headers: {} });
    expect(config.outputDir).toBe("/configs/result");
    // ramp-up defaults to clients × 0.1 s, as the seed's
    expect(config.sweep.points).toEqual([
      { kind: "clients", clients: 1, rampUpS: 0.1 },
      { kind: "clients", clients: 5, rampUpS: 0.5 },
      { kind: "clients", clients: 10, rampUpS: 1 },
    ]);
    expect(config.sweep).toMatchObject({ numRequests: 1024, stopTimeS: 300, drainTimeoutS: 60, requestTimeoutS: 600, seed: 0, turns: 1 });
    expect(config.dataset).toEqual({ path: DATASET, tokenizer: "cl100k_base", outputLen: null, systemPrompt: { enabled: false, path: null } });
  });

  test("a ramp-up function is evaluated per client count", () => {
    const raw = validConfig();
    raw.sweep.rampUpS = (clients: number) => Math.min(clients, 4) * 0.5;
    const config = resolveConfig(raw, CONFIG_PATH, ["vllm"]);
    expect(config.sweep.points.map((p) => (p.kind === "clients" ? p.rampUpS : null))).toEqual([0.5, 2, 2]);
  });

  test("a gRPC host:port URL and an already-running server are accepted", () => {
    const raw = validConfig();
    raw.backend = "ppl";
    raw.servers = { ppl: { url: "127.0.0.1:23333", launch: "already-running" } };
    const config = resolveConfig(raw, CONFIG_PATH, ["ppl"]);
    expect(config.launch).toBeNull();
    expect(config.server.url).toBe("127.0.0.1:23333");
  });

  test("every wrong field is named with what was expected, all at once", () => {
    const raw = validConfig();
    raw.backend = "ppl";
    raw.model.tp = 0;
    raw.model.sizeB = "7";
    raw.servers.vllm.url = "localhost";
    raw.servers.vllm.launch.readyTimeoutS = -1;
    raw.dataset.tokenizer = "llama";
    raw.sweep.clients = [1, -4];
    raw.sweep.stopTimeSeconds = 3;
    raw.sweep.drainTimeout = 3;
    const problems = problemsOf(raw);
    expect(problems.find((line) => line.startsWith("sweep.stopTimeSeconds"))).toStartWith("sweep.stopTimeSeconds: unknown field (did you mean stopTimeS?); known fields: clients, rates, inputLens, outputLens, points,");
    expect(problems.filter((line) => !line.startsWith("sweep.stopTimeSeconds"))).toEqual([
      'backend: expected one of the backends this llmbench speaks (vllm), got "ppl"',
      'model.sizeB: expected a number > 0, got "7"',
      "model.tp: expected a positive integer, got 0",
      'servers.vllm.url: expected an http(s):// URL or host:port, got "localhost"',
      "servers.vllm.launch.readyTimeoutS: expected a number > 0, got -1",
      'servers.ppl: is required: backend is "ppl", so servers.ppl must say how to reach it',
      `dataset.tokenizer: expected one of cl100k_base, o200k_base, or a path to a model's tokenizer.json, got "llama"`,
      "sweep.clients[1]: expected a positive integer, got -4",
    ]);
  });

  test("a sweep needs points and a budget or a duration; clients and rates do not mix", () => {
    const raw = validConfig();
    raw.sweep = { clients: [1], rates: [2] };
    expect(problemsOf(raw)).toEqual([
      "sweep: give clients (client counts) or rates (request rates), not both",
      "sweep: give numRequests or stopTimeS (or both): each point needs a request budget or a duration",
    ]);
    raw.sweep = { clients: [], numRequests: 5 };
    expect(problemsOf(raw)).toEqual(["sweep.clients: expected a non-empty list of positive integers, got []"]);
  });

  test("missing sections, a bad launch, a missing dataset and a key pasted instead of a variable name", () => {
    const raw = validConfig();
    delete raw.model;
    raw.servers.vllm.launch = { command: ["python", 3] };
    raw.servers.vllm.apiKeyEnv = "sk-live-1234";
    raw.dataset.path = "nowhere.json";
    const problems = problemsOf(raw);
    expect(problems).toEqual([
      "model: is required (an object)",
      "servers.vllm.apiKeyEnv: expected the NAME of an environment variable (such as OPENAI_API_KEY), not a key",
      "servers.vllm.launch.command[1]: expected a string, got 3",
      "dataset.path: no such file: /configs/nowhere.json",
    ]);
    expect(problems.join("\n")).not.toContain("sk-live-1234");
  });

  test("a launch command function that throws is reported against its field", () => {
    const raw = validConfig();
    raw.servers.vllm.launch.command = () => {
      throw new Error("model.path is needed");
    };
    expect(problemsOf(raw)).toEqual(["servers.vllm.launch.command: the function threw: model.path is needed"]);
  });

  test("no default export", () => {
    expect(problemsOf(undefined)).toEqual(["export default: expected a config object (export default defineConfig({ ... })), got nothing"]);
  });
});

describe("flags override the config for one run", () => {
  test("--clients replaces the config's rates or clients, --num-requests and --stop-time the budget", () => {
    const raw = validConfig();
    const overrides = parseSweepFlags({ clients: "2,8", numRequests: "50", stopTime: 7.5, outputDir: "elsewhere" });
    const config = resolveConfig(applyOverrides(raw, overrides), CONFIG_PATH, ["vllm"]);
    expect(config.sweep.points.map((p) => (p.kind === "clients" ? p.clients : p.kind === "rate" ? p.rate : null))).toEqual([2, 8]);
    expect(config.sweep.numRequests).toBe(50);
    expect(config.sweep.stopTimeS).toBe(7.5);
    expect(config.outputDir).toBe(join(process.cwd(), "elsewhere"));
    expect(raw.sweep.clients).toEqual([1, 5, 10]); // the config object itself is left alone
  });

  test("bad flag values name the flag", () => {
    expect(() => parseSweepFlags({ clients: "1,x" })).toThrow('--clients: expected a positive integer, got "x"');
    expect(() => parseSweepFlags({ clients: "1,,4" })).toThrow("--clients: expected a comma-separated list such as 1,4,16");
    expect(() => parseSweepFlags({ clients: "1", rates: "2" })).toThrow("give --clients or --rates, not both");
    // a run setting's flag is read with the config, by run's parser, and named as typed
    expect(() => resolveConfig(applyOverrides(validConfig(), parseSweepFlags({ numRequests: "0" })), CONFIG_PATH, ["vllm"])).toThrow("--num-requests: expected a positive integer, got 0");
  });
});

describe("the config meets the point runner", () => {
  test("a client-count point's settings are run's, with run's defaults", () => {
    const config = resolveConfig(validConfig(), CONFIG_PATH, ["vllm"]);
    expect(settingsForPoint(config, config.sweep.points[1]!, 1)).toMatchObject({
      numClients: 5, rampUpTimeS: 0.5, requestRate: null, burstiness: 1, maxConcurrency: null, stopTimeS: 300, numRequests: 1024,
      drainTimeoutS: 60, requestTimeoutS: 600, seed: 0, numTurns: 1, thinkTimeS: 0, warmupRequests: 0, goodput: null, serverGauges: true,
      percentiles: [], thresholds: [], backend: "vllm", baseUrl: "http://127.0.0.1:8000", model: "/models/llama-2-7b-hf", datasetPath: DATASET,
      tokenizer: "cl100k_base", pplProto: "v2", numRuns: 1, traceFile: null, saveResult: null, modelSize: "7", tp: 2, mode: "fp16", apiKeyEnv: "OPENAI_API_KEY",
    });
  });

  test("rate points, turns and the system prompt reach the point runner; turns with rates are refused by field", () => {
    const raw = validConfig();
    raw.sweep = { rates: [1, 2.5], numRequests: 10 };
    raw.dataset.systemPrompt = { enabled: true, path: DATASET };
    const config = resolveConfig(raw, CONFIG_PATH, ["vllm"]);
    expect(config.sweep.points).toEqual([{ kind: "rate", rate: 1 }, { kind: "rate", rate: 2.5 }]);
    expect(settingsForPoint(config, config.sweep.points[1]!, 1)).toMatchObject({ requestRate: 2.5, rampUpTimeS: 0, numTurns: 1 });
    expect(targetSpecFor(config).systemPromptPath).toBe(DATASET);
    raw.sweep = { rates: [1], numRequests: 10, turns: 3 };
    expect(problemsOf(raw)).toEqual(["sweep.turns works with sweep.numClients (closed loop): conversations need users that wait for answers"]);
    raw.sweep = { clients: [2], numRequests: 10, turns: 3 };
    const turns = resolveConfig(raw, CONFIG_PATH, ["vllm"]);
    expect(settingsForPoint(turns, turns.sweep.points[0]!, 0).numTurns).toBe(3);
  });

  test("the archived config keeps the computed command but no secret", () => {
    const raw = validConfig();
    raw.servers.vllm.launch.command = ["vllm", "serve", "--api-key", "sk-123", "--hf-token=hf_abc", "--tokenizer-path", "/tok"];
    const archived = JSON.stringify(resolvedConfigForArchive(resolveConfig(raw, CONFIG_PATH, ["vllm"])));
    expect(archived).not.toContain("sk-123");
    expect(archived).not.toContain("hf_abc");
    expect(archived).not.toContain("hf_secret_value");
    expect(archived).toContain('"CUDA_VISIBLE_DEVICES":"0,1"');
    expect(archived).toContain('"--tokenizer-path","/tok"');
  });
});

describe("loading a config file", () => {
  test("defineConfig, freePort and `import type` from \"llmbench\" work in a config outside the repository", async () => {
    const dir = tempDir();
    const path = join(dir, "my.config.ts");
    writeFileSync(
      path,
      `import { defineConfig, freePort } from "llmbench";
import type { BenchConfig } from "llmbench";
const port: number = freePort();
const sweep: BenchConfig["sweep"] = { clients: [3], numRequests: 9 };
export default defineConfig({
  backend: "vllm",
  model: { tag: "m" },
  servers: { vllm: { url: \`http://127.0.0.1:\${port}\`, launch: { command: (c, s) => [...s.llmbench, "mock", "--port", String(s.port)] } } },
  dataset: { path: ${JSON.stringify(DATASET)} },
  sweep,
  output: { dir: "out" },
});
`,
    );
    const config = await loadBenchConfig(path);
    const port = Number(new URL(config.server.url).port);
    expect(port).toBeGreaterThan(0);
    expect(config.launch!.command.slice(-3)).toEqual(["mock", "--port", String(port)]);
    expect(config.outputDir).toBe(join(dir, "out"));
    expect(config.sweep.numRequests).toBe(9);
  });

  test("a missing file and a syntax error are usage errors naming the file", async () => {
    const dir = tempDir();
    await expect(loadBenchConfig(join(dir, "none.ts"))).rejects.toThrow(`${join(dir, "none.ts")}: no such config file`);
    const broken = join(dir, "broken.config.ts");
    writeFileSync(broken, "export default { backend: ;\n");
    await expect(loadBenchConfig(broken)).rejects.toThrow(`${broken}: the config could not be loaded`);
  });
});

describe("the example configs mirror the seed's settings", () => {
  // The seed's launch commands (shared/PROTOCOLS.md) for Llama-2 7B, TP 1.
  const seedLaunch: Record<string, string> = {
    vllm: "python -m vllm.entrypoints.openai.api_server --model /mnt/llm2/llm_perf/hf_models/llama-7b-hf --swap-space 16 --disable-log-requests --enforce-eager --host 127.0.0.1 --port 8000 -tp 1",
    ppl:
      "./ppl_llm_server --model-dir /mnt/llm/llm_perf/opmx_models/llama_7b_1gpu --model-param-path /mnt/llm/llm_perf/opmx_models/llama_7b_1gpu/params.json " +
      "--tokenizer-path /mnt/llm2/llm_perf/hf_models/llama-7b-hf/tokenizer.model --tensor-parallel-size 1 --top-p 0.0 --top-k 1 --max-tokens-scale 0.94 " +
      "--max-input-tokens-per-request 4096 --max-output-tokens-per-request 4096 --max-total-tokens-per-request 8192 --max-running-batch 1024 " +
      "--max-tokens-per-step 8192 --host 127.0.0.1 --port 23333",
    lightllm: "python -m lightllm.server.api_server --model_dir /mnt/llm2/llm_perf/hf_models/llama-7b-hf --host 127.0.0.1 --port 8080 --tp 1 --max_total_token_num 150000 --tokenizer_mode fast",
  };

  for (const backend of ["vllm", "ppl", "lightllm"]) {
    test(`examples/${backend}.config.ts launches ${backend} as the seed did and sweeps its client counts`, async () => {
      const { path, value } = await loadConfigModule(join(import.meta.dir, `../examples/${backend}.config.ts`));
      const raw = value as Record<string, any>;
      expect(raw.dataset.path).toBe("../datasets/samples_1024.json"); // downloaded by the user; the sample stands in here
      const config = resolveConfig({ ...raw, dataset: { ...raw.dataset, path: DATASET } }, path, ["vllm", "ppl", "lightllm"]);
      expect(config.launch!.command.join(" ")).toBe(seedLaunch[backend]!);
      expect(config.model).toMatchObject({ tag: "llama2-7b", sizeB: 7, tp: 1, mode: "fp16" });
      expect(config.sweep.points.map((p) => (p.kind === "clients" ? p.clients : null))).toEqual([1, 5, 10, 20, 30, 40, 50, 100, 200, 300]);
      expect(config.sweep.points[9]).toEqual({ kind: "clients", clients: 300, rampUpS: 30 });
      expect(config.sweep).toMatchObject({ numRequests: 1024, stopTimeS: 300 });
      expect(config.launch!.readyTimeoutS).toBe(900);
      expect(config.dataset.systemPrompt.enabled).toBe(false);
    });
  }
});

describe("llmbench sweep with an invalid config", () => {
  test("exits 2 before starting anything, naming every wrong field", async () => {
    const dir = tempDir();
    const path = join(dir, "bad.config.ts");
    writeFileSync(
      path,
      `import { defineConfig } from "llmbench";
export default defineConfig({
  backend: "vllm",
  model: { tag: "m", tp: 1.5 },
  servers: { vllm: { url: "http://127.0.0.1:9", launch: { command: ["sh", "-c", "touch ${dir}/started"] } } },
  dataset: { path: ${JSON.stringify(DATASET)} },
  sweep: { clients: [1, 0], numRequests: 4 },
});
`,
    );
    const result = await runCli(["sweep", path]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${path} is not a valid config:`);
    expect(result.stderr).toContain("model.tp: expected a positive integer, got 1.5");
    expect(result.stderr).toContain("sweep.clients[1]: expected a positive integer, got 0");
    expect(await Bun.file(join(dir, "started")).exists()).toBe(false);
    expect(await Bun.file(join(dir, "result")).exists()).toBe(false);
  });

  test("a bad flag and a missing config file exit 2 too", async () => {
    const bad = await runCli(["sweep", "bench.config.ts", "--clients", "4,zero"]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--clients: expected a positive integer, got "zero"');
    const missing = await runCli(["sweep", "no-such.config.ts"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("no-such.config.ts: no such config file");
  });
});

describe("one settings model: run's flags as config fields", () => {
  test("sweep-wide settings reach every point, a point's own win, the command line wins over both", () => {
    const raw = validConfig();
    raw.sweep = { numRequests: 20, warmupRequests: 4, goodput: { ttft: 200 }, points: [{ numClients: 2 }, { requestRate: 5, burstiness: 0.5, warmupRequests: 0 }] };
    const config = resolveConfig(raw, CONFIG_PATH, ["vllm"]);
    expect(config.sweep.points).toEqual([{ kind: "clients", clients: 2, rampUpS: 0.2 }, { kind: "rate", rate: 5 }]);
    expect(config.settings.points.map((s) => [s.warmupRequests, s.burstiness, s.goodput?.ttft])).toEqual([[4, 1, 200], [0, 0.5, 200]]);
    const overridden = resolveConfig(applyOverrides(raw, parseSweepFlags({ warmupRequests: "9", numPrompts: "7" })), CONFIG_PATH, ["vllm"]);
    expect(overridden.settings.points.map((s) => [s.warmupRequests, s.numRequests])).toEqual([[9, 7], [9, 7]]);
  });

  test("input × output lengths × clients is a grid, in that order, of synthetic prompts", () => {
    const raw = validConfig();
    raw.sweep = { inputLens: [128, 1024], outputLens: [64], clients: [1, 8], numRequests: 10 };
    const config = resolveConfig(raw, CONFIG_PATH, ["vllm"]);
    expect(config.sweep.points.map((p) => `${p.inputLen}/${p.outputLen}/${p.kind === "clients" ? p.clients : "?"}`)).toEqual(["128/64/1", "128/64/8", "1024/64/1", "1024/64/8"]);
    expect(config.settings.points.map((s) => [s.dataset, s.synthetic?.inputLen, s.outputLen, s.datasetPath])).toEqual([["synthetic", 128, 64, null], ["synthetic", 128, 64, null], ["synthetic", 1024, 64, null], ["synthetic", 1024, 64, null]]);
  });

  test("a setting under two names, a bad per-point value and an axis given twice are named by field", () => {
    const raw = validConfig();
    raw.sweep = { clients: [1], numRequests: 5, stopTimeS: 3, stopTime: 4 };
    expect(problemsOf(raw)).toEqual(["sweep.stopTimeS: the same setting as sweep.stopTime: give one"]);
    raw.sweep = { numRequests: 5, points: [{ numClients: 1 }, { numClients: 2, thinkTime: -1 }] };
    expect(problemsOf(raw)).toEqual(["sweep.points[1].thinkTime: expected a number of seconds ≥ 0, got -1"]);
    raw.sweep = { clients: [1, 2], numClients: 3, numRequests: 5 };
    expect(problemsOf(raw)).toEqual(["sweep.numClients: sweep.clients sets it at each point: give one"]);
    raw.sweep = { clients: [1], numRequests: 5, warmupRequest: 2 };
    expect(problemsOf(raw)[0]).toStartWith("sweep.warmupRequest: unknown field (did you mean warmupRequests?)");
  });
});
