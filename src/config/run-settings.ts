/**
 * The resolved settings of one benchmark point: what `llmbench run` builds from its flags and what
 * `llmbench sweep` builds for each point from the config (and its own flags). Plain data, every
 * default filled in; the runner reads it, and nothing here depends on the runner.
 */
import type { GoodputSlo } from "../metrics/goodput.ts";
import type { Threshold } from "../report/thresholds.ts";
import type { Shard } from "../workload/shards.ts";
import type { VllmMetric } from "./knob-flags.ts";
import type { ShardOptions } from "./shard-options.ts";

export const DEFAULT_REQUEST_TIMEOUT_S = 600;
export const DEFAULT_DRAIN_TIMEOUT_S = 60;
/**
 * New connections a second when opening the users' connections ahead of the clock. 500/s: a
 * server's accept queue (listen backlog) is 128 to 4,096 deep (Linux somaxconn, 4,096 since 5.4;
 * Bun and Node listen with 512, uvicorn 2,048, Python's asyncio 100); at 500/s even a server that
 * accepts nothing for 200 ms never has more than 100 handshakes waiting, and 5,000 users are
 * connected in 10 s, before the point's clock starts.
 */
export const DEFAULT_PRECONNECT_RATE = 500;
/** Closed loop: clients start over clients × this many seconds unless told otherwise. */
export const DEFAULT_RAMP_UP_PER_CLIENT_S = 0.1;

/** What a benchmark is aimed at and with which data. */
export interface TargetSettings {
  backend: string;
  /** An http(s) URL, or host:port for gRPC backends. */
  baseUrl: string;
  /** The model name sent with each request; "" when --model was not given (the server's only model, or none where the protocol names none). */
  model: string;
  /** Name of the environment variable holding the API key (null: none); the key itself is read where the backend is built. */
  apiKeyEnv: string | null;
  insecure: boolean;
  /** ppl's message set (default v2). */
  pplProto?: "v1" | "v2";
  /** Count `<think>…</think>` in the content as thinking (--think-tags). */
  thinkTags?: boolean;
  /** "synthetic" for generated prompts, "trace" for a trace's own; otherwise prompts come from datasetPath. */
  dataset: "file" | "synthetic" | "trace";
  datasetPath: string | null;
  /** A built-in encoding name or a path to a tokenizer.json. */
  tokenizer: string;
  /** A fixed output length; with a synthetic dataset, the mean output length. */
  outputLen: number | undefined;
  systemPromptPath: string | null;
  minInputLen: number | null;
  maxInputLen: number | null;
  maxTotalLen: number | null;
  synthetic: { inputLen: number; inputLenStd: number; outputLenStd: number; prefixLen: number; rangeRatio?: number } | null;
  /** Merged into every HTTP request body (--extra-body, sampling flags). */
  extraBody?: Record<string, unknown> | null;
  /** Sent with every HTTP request (--header). */
  headers?: Record<string, string>;
  seed: number;
}

/** How a point loads the server. */
export interface LoadSettings {
  numClients: number;
  rampUpTimeS: number;
  /** Requests per second (Infinity: all at once); null for closed-loop clients. */
  requestRate: number | null;
  burstiness: number;
  maxConcurrency: number | null;
  stopTimeS: number | null;
  numRequests: number | null;
  drainTimeoutS: number;
  requestTimeoutS: number;
  seed: number;
  /** Turns per conversation (closed loop); each turn sends the history with the server's real answers. */
  numTurns: number;
  /** Mean of the exponential pause between turns, in seconds (0: none). */
  thinkTimeS: number;
  /** This process's shard of the point (null or absent: the whole point). */
  shard?: Shard | null;
}

/** A point's load, and what is measured of it. */
export interface PointSettings extends LoadSettings {
  /** Requests sent before measuring, with their own prompts, and not counted. */
  warmupRequests: number;
  goodput: GoodputSlo | null;
  /** Sample the server's load gauges (its Prometheus /metrics) while the point runs. */
  serverGauges: boolean;
  /** Connections opened a second before the clock starts (each user's keep-alive connection); null: none opened ahead (--no-preconnect). */
  preconnectRate: number | null;
  /** Percentiles computed besides p90 and p99 (--metric-percentiles). */
  percentiles?: readonly number[];
  /** Checked against the point's summary row; listed in summary.json. */
  thresholds?: readonly Threshold[];
}

/** --save-result: a JSON file with vLLM's result keys. */
export interface SaveResult {
  /** Folder of the file; null: the point's result folder. */
  dir: string | null;
  /** null: vLLM's name, {backend}-{rate}qps[-concurrency{k}]-{model}-{date}.json. */
  filename: string | null;
  /** Per-request lists too (ttfts, itls, input_lens, output_lens, errors). */
  detailed: boolean;
  /** The metrics given statistics (vLLM's --percentile-metrics). */
  metrics: VllmMetric[];
  /** The percentiles given (vLLM's --metric-percentiles, default 99). */
  percentiles: number[];
}

/** Everything one point needs, validated: the same for `run` and for each point of a sweep. */
export interface RunSettings extends TargetSettings, PointSettings, Omit<ShardOptions, "shard"> {
  pplProto: "v1" | "v2";
  resultDir: string | null;
  modelSize: string;
  tp: number;
  mode: string;
  progress: boolean;
  thresholds: Threshold[];
  saveResult: SaveResult | null;
  /** --trace: replay this JSONL of timed requests instead of clients or a rate; --trace-speed scales its time. */
  traceFile: { path: string; speed: number } | null;
  /** --num-runs: the point is run this many times (fresh connections, the same prompts), with 95 % intervals across runs. */
  numRuns: number;
}
