/**
 * bench.config.ts: what a sweep measures and how its server is launched. It replaces the seed's
 * env_setup.sh. `BenchConfig` is what the user writes; `ResolvedBenchConfig` is the same after
 * validation, with every default filled in, paths made absolute and the launch command computed.
 * Durations are in seconds and say so in their names (`stopTimeS`).
 */
import type { S3Location } from "../archive/s3-client.ts";
import type { TokenizerName } from "../dataset/tokenizer.ts";
import type { Threshold } from "../report/thresholds.ts";
import type { SettingLayer } from "./config-settings.ts";
import type { RunSettings } from "./run-settings.ts";
import type { ResolvedSearch, SearchConfig } from "./search-config.ts";

export interface BenchConfig {
  /** The server protocol of this run: "vllm", "ppl", "lightllm", ... (one of `servers`). */
  backend: string;
  model: ModelConfig;
  /** How to reach (and launch) each server, by backend; `backend` picks the one this run uses. */
  servers: Partial<Record<string, ServerConfig>>;
  dataset: DatasetConfig;
  sweep: SweepConfig;
  output?: OutputConfig;
}

export interface ModelConfig {
  /** A short name for the model, such as "llama2-7b": it names the run folder. */
  tag: string;
  /** Billions of parameters: the `model_size(B)` column of the CSV (the tag when not given). */
  sizeB?: number;
  /** Tensor parallelism (the `tp` column); default 1. */
  tp?: number;
  /** Precision or quantization (the `mode` column), such as "fp16"; default "". */
  mode?: string;
  /** Where the weights are (HF folder, OPMX folder, ...), for the launch command. */
  path?: string;
  /** Where the model's tokenizer is, for the launch command. */
  tokenizerPath?: string;
  /** The model name sent with each request; default `path`, else `tag` (vLLM serves a model under its path). */
  name?: string;
}

export interface ServerConfig {
  /** http(s)://host:port for HTTP servers, host:port for gRPC ones (ppl). */
  url: string;
  /** How llmbench starts the server, or "already-running" when someone else does. */
  launch: LaunchConfig | "already-running";
  /** Name of the environment variable holding the API key: the key itself never goes in a file. */
  apiKeyEnv?: string;
  /** Accept any TLS certificate. */
  insecure?: boolean;
  /** Merged into every request body (HTTP backends), as `--extra-body`; fields that set the output length or streaming are refused. */
  extraBody?: Record<string, unknown>;
  /** Sent with every request (HTTP backends), as `--header`: { "X-Route": "pool-a" }. */
  headers?: Record<string, string>;
}

export interface LaunchConfig {
  /** The server's argv (no shell), or a function computing it from the rest of the config. */
  command: string[] | ((config: LaunchInput, context: LaunchContext) => string[]);
  /** Added to llmbench's own environment. Values of names that look secret are redacted in the archive. */
  env?: Record<string, string>;
  /** Working folder of the server; default the config file's folder. */
  cwd?: string;
  /** Seconds the server gets to answer its health check; default 600. */
  readyTimeoutS?: number;
  /** Seconds between SIGTERM and SIGKILL when the server is stopped; default 10. */
  stopGraceS?: number;
}

/** What a computed launch command gets besides the config. */
export interface LaunchContext {
  /** The argv that runs this llmbench itself (the binary, or bun with src/cli.ts from a checkout). */
  llmbench: string[];
  /** Host and port of the server's URL. */
  host: string;
  port: number | null;
}

export interface DatasetConfig {
  /** ShareGPT JSON or JSONL ({prompt, output_len} or {messages} per line); relative paths are relative to the config file. Not needed with synthetic prompts (sweep.dataset "synthetic", sweep.inputLens) or a trace. */
  path?: string;
  /** Client tokenizer counting input tokens: cl100k_base (default), o200k_base, or a path to a model's tokenizer.json. */
  tokenizer?: TokenizerName | (string & {});
  /** Output tokens asked for by every request; default the dataset answer's length. */
  outputLen?: number;
  /** A shared system prompt before every request (the seed's ENABLE_SYSTEM_PROMPT / SYSTEM_PROMPT_PATH). */
  systemPrompt?: { enabled: boolean; path?: string };
}

/**
 * The settings of a point, as `llmbench run` takes them: each is the run flag's name in camelCase
 * (`--warmup-requests` → warmupRequests), with the same meaning and default. Given in `sweep`
 * they apply to every point; in `sweep.points[i]` to that point; the same flag on the sweep
 * command line overrides both. Durations are seconds, as the flags take them.
 */
export interface RunSettingsConfig {
  /** "synthetic": generated prompts of inputLen tokens (no dataset.path). */
  dataset?: "synthetic";
  datasetPath?: string;
  /** vLLM's names: "sharegpt" (datasetPath) or "random" (randomInputLen, randomOutputLen, …). */
  datasetName?: "sharegpt" | "random";
  inputLen?: number;
  inputLenStd?: number;
  outputLen?: number;
  outputLenStd?: number;
  prefixLen?: number;
  randomInputLen?: number;
  randomOutputLen?: number;
  randomRangeRatio?: number;
  randomPrefixLen?: number;
  sharegptOutputLen?: number;
  minInputLen?: number;
  maxInputLen?: number;
  maxTotalLen?: number;
  systemPromptPath?: string;
  tokenizer?: string;
  numRequests?: number;
  numPrompts?: number;
  numClients?: number;
  rampUpTime?: number;
  /** Requests per second, or "inf". */
  requestRate?: number | "inf";
  burstiness?: number;
  maxConcurrency?: number;
  /** A JSONL trace replayed at its timestamps (relative to the config file). */
  trace?: string;
  traceSpeed?: number;
  numRuns?: number;
  numTurns?: number;
  thinkTime?: number;
  warmupRequests?: number;
  /** SLOs in ms: "ttft:200,tpot:50" or { ttft: 200, tpot: 50 }. */
  goodput?: string | Record<string, number>;
  stopTime?: number;
  drainTimeout?: number;
  requestTimeout?: number;
  seed?: number;
  pplProto?: "v1" | "v2";
  thinkTags?: boolean;
  /** Merged into every request body (over the server's extraBody). */
  extraBody?: Record<string, unknown>;
  /** Sent with every request (over the server's headers). */
  headers?: Record<string, string>;
  temperature?: number;
  topP?: number;
  topK?: number;
  ignoreEos?: boolean;
  /** Percentiles reported besides p90 and p99 in every output: [50, 95, 99.9]. */
  metricPercentiles?: number[];
  /** Checked at every point: ["p99_ttft<2000", "success_rate>=0.99"]; any failure makes the exit code 3. */
  thresholds?: string[];
  /** Write vLLM's result JSON in each point's folder. */
  saveResult?: boolean;
  saveDetailed?: boolean;
  resultFilename?: string;
  percentileMetrics?: string;
  /** false: do not sample the server's /metrics gauges. */
  serverMetrics?: boolean;
  /** false: do not open the users' connections before the clock (--no-preconnect). */
  preconnect?: boolean;
  preconnectRate?: number;
}

export interface SweepConfig extends RunSettingsConfig {
  /** Closed-loop points: one per number of clients, in this order. */
  clients?: number[];
  /** Open-loop points: one per request rate (requests/s), in this order. */
  rates?: number[];
  /** Input lengths (tokens) of synthetic prompts: the sweep is the grid inputLens × outputLens × clients (or rates). */
  inputLens?: number[];
  /** Output lengths (tokens): an axis of the grid (with a dataset file: its prompts at each length). */
  outputLens?: number[];
  /** Points listed one by one, each with its own settings over the sweep's: [{ numClients: 1 }, { numClients: 64, warmupRequests: 32 }]. Instead of clients/rates. */
  points?: (RunSettingsConfig & { rampUpS?: number })[];
  /** Seconds after which a point starts no new request (= stopTime). */
  stopTimeS?: number;
  /** Seconds over which a point's clients start: a number, or a function of the client count; default clients × 0.1 (= rampUpTime). */
  rampUpS?: number | ((clients: number) => number);
  /** Seconds requests in flight get to finish after the stop; default 60 (= drainTimeout). */
  drainTimeoutS?: number;
  /** Per-request timeout in seconds; default 600 (= requestTimeout). */
  requestTimeoutS?: number;
  /** User turns per conversation; default 1 (= numTurns). */
  turns?: number;
  /** A capacity search (the most clients or the highest rate meeting an SLO) instead of `clients`/`rates`. */
  search?: SearchConfig;
}

export interface OutputConfig {
  /** Root of the archive: runs go to `<dir>/<YYYY-MM-DD>/<HHMMSS>_<backend>_<tag>/`; default "result" beside the config. */
  dir?: string;
  /** s3://bucket/prefix: the run's folder is copied to `<prefix>/<YYYY-MM-DD>/<HHMMSS>_<backend>_<tag>/` when the sweep ends (as `sweep --upload`). */
  upload?: string;
}

/** The lengths of a point of an input × output length grid (absent outside a grid). */
export interface PointLengths {
  inputLen?: number;
  outputLen?: number;
}

/** One point of a sweep. */
export type SweepPoint =
  | ({ kind: "clients"; clients: number; rampUpS: number } & PointLengths)
  | ({ kind: "rate"; rate: number } & PointLengths)
  | ({ kind: "trace"; trace: string; speed: number } & PointLengths);

export interface ResolvedLaunch {
  command: string[];
  env: Record<string, string>;
  cwd: string;
  readyTimeoutS: number;
  stopGraceS: number;
}

/** The config after validation: plain data (it is archived as JSON), every default filled in. */
export interface ResolvedBenchConfig {
  configPath: string;
  backend: string;
  model: {
    tag: string;
    sizeB: number | null;
    tp: number;
    mode: string;
    path: string | null;
    tokenizerPath: string | null;
    name: string;
  };
  server: {
    url: string;
    apiKeyEnv: string;
    insecure: boolean;
    extraBody: Record<string, unknown> | null;
    headers: Record<string, string>;
  };
  /** Null when the server is "already-running". */
  launch: ResolvedLaunch | null;
  dataset: {
    /** null: synthetic prompts or a trace's. */
    path: string | null;
    tokenizer: string;
    outputLen: number | null;
    systemPrompt: { enabled: boolean; path: string | null };
  };
  sweep: {
    points: SweepPoint[];
    numRequests: number | null;
    stopTimeS: number | null;
    drainTimeoutS: number;
    requestTimeoutS: number;
    seed: number;
    turns: number;
    metricPercentiles: number[];
    thresholds: Threshold[];
    /** Null for a sweep of the listed points (then `points` is not empty). */
    search: ResolvedSearch | null;
  };
  outputDir: string;
  /** Where the run's folder is copied when the sweep ends (output.upload, --upload); null: it stays here only. */
  upload: S3Location | null;
  /** Each point's settings, built by `run`'s parser, in sweep order (a capacity search's are built as it probes). */
  settings: {
    points: RunSettings[];
    /** The settings every point starts from (config sections, sweep, command line), for points added at run time. */
    layer: SettingLayer;
  };
}

/** What a computed launch command is given: the resolved config, before its launch is known. */
export type LaunchInput = Omit<ResolvedBenchConfig, "launch" | "settings">;

export const DEFAULT_READY_TIMEOUT_S = 600;
export const DEFAULT_STOP_GRACE_S = 10;
export { DEFAULT_RAMP_UP_PER_CLIENT_S } from "./run-settings.ts";
