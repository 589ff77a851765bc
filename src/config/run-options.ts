import { parseBackendFlags } from "./backend-flags.ts";
import { UsageError } from "../common/usage-error.ts";
import { TOKENIZER_NAMES } from "../dataset/tokenizer.ts";
import * as flag from "./flag-values.ts";
import { parseGoodput } from "./goodput-flag.ts";
import { parseExtraBody, parseHeaders, parsePercentileMetrics, parsePercentiles, parseThresholds, percentilesOfThresholds } from "./knob-flags.ts";
import { translateVllmFlags } from "./vllm-flags.ts";
import { DEFAULT_DRAIN_TIMEOUT_S, DEFAULT_PRECONNECT_RATE, DEFAULT_REQUEST_TIMEOUT_S, type RunSettings, type SaveResult } from "./run-settings.ts";
import type { RawFlags } from "./flag-values.ts";

/** Sampling fields sent by the OpenAI backends (vLLM's --temperature, --top-p, --top-k). */
const SAMPLING_FLAGS = [["temperature", "--temperature", "temperature"], ["topP", "--top-p", "top_p"], ["topK", "--top-k", "top_k"]] as const;
const SAMPLING_BACKENDS = ["vllm", "openai-chat"];
import { checkShardFits, parseShardOptions } from "./shard-options.ts";

/** Everything one `llmbench run` needs, validated (the name `run` has always used for its settings). */
export type RunOptions = RunSettings;
export type { RawFlags, SaveResult };
export { DEFAULT_DRAIN_TIMEOUT_S, DEFAULT_REQUEST_TIMEOUT_S };

function requestRate(value: unknown): number | null {
  if (value === undefined || value === null || value === "") return null;
  if (String(value).trim().toLowerCase() === "inf") return Infinity;
  return flag.positiveNumber("--request-rate", value, 1);
}

/** `shards: false` (a sweep's points): the point runs whole, whatever the environment says of shards. */
export function parseRunOptions(input: RawFlags, context: { shards?: boolean } = {}): RunOptions {
  const raw = translateVllmFlags(input);
  const trace = parseTraceFlags(raw);
  const rate = requestRate(raw.requestRate);
  if (rate !== null && raw.numClients !== undefined) {
    throw new UsageError("--request-rate and --num-clients are two different workloads: give one (cap a rate with --max-concurrency)");
  }
  const numClients = flag.positiveInteger("--num-clients", raw.numClients, 1)!;
  const numRequests = flag.positiveInteger("--num-requests", raw.numRequests, null);
  const stopTimeS = flag.nonNegativeSeconds("--stop-time", raw.stopTime, null);
  if (numRequests === null && stopTimeS === null && trace === null) {
    throw new UsageError("give --num-requests N or --stop-time S (or both): a run needs a request budget or a duration");
  }
  if (stopTimeS === 0) throw new UsageError("--stop-time: expected a number of seconds > 0, got 0");
  if (rate === Infinity && numRequests === null) throw new UsageError("--request-rate inf sends every request at once: give --num-requests");
  const numTurns = flag.positiveInteger("--num-turns", raw.numTurns, 1)!;
  if (rate !== null && numTurns > 1) {
    throw new UsageError("--num-turns works with --num-clients (closed loop): conversations need users that wait for answers");
  }
  if (rate === null && raw.maxConcurrency !== undefined) throw new UsageError("--max-concurrency caps a --request-rate run; with --num-clients the clients are the cap");
  if (rate === null && raw.burstiness !== undefined) throw new UsageError("--burstiness shapes a --request-rate run's arrivals");

  const synthetic = raw.dataset === "synthetic";
  if (raw.dataset !== undefined && !synthetic) throw new UsageError(`--dataset: expected "synthetic" (files are given with --dataset-path), got "${String(raw.dataset)}"`);
  if (synthetic && raw.datasetPath !== undefined) throw new UsageError("--dataset synthetic generates its prompts: drop --dataset-path");
  for (const name of ["inputLen", "inputLenStd", "outputLenStd", "prefixLen"] as const) {
    if (!synthetic && raw[name] !== undefined) {
      throw new UsageError(`--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --dataset synthetic`);
    }
  }
  const outputLen = flag.positiveInteger("--output-len", raw.outputLen, null) ?? undefined;
  if (synthetic && outputLen === undefined) throw new UsageError("--dataset synthetic needs --output-len M (the mean output length)");

  const tokenizer = flag.text("--tokenizer", raw.tokenizer, "cl100k_base");
  if (!(TOKENIZER_NAMES as readonly string[]).includes(tokenizer) && !/[/\\.]/.test(tokenizer)) {
    throw new UsageError(`--tokenizer: expected ${TOKENIZER_NAMES.join(" or ")}, or a path to a model's tokenizer.json, got "${tokenizer}"`);
  }

  const backendFlags = parseBackendFlags(raw);
  const thresholds = parseThresholds("--threshold", raw.threshold);
  const chosenPercentiles = parsePercentiles("--metric-percentiles", raw.metricPercentiles);
  const saving = raw.saveResult === true || raw.saveDetailed === true || raw.resultFilename !== undefined;
  if (raw.percentileMetrics !== undefined && !saving) throw new UsageError("--percentile-metrics chooses the metrics of --save-result's JSON: add --save-result");
  const saveResult: SaveResult | null = saving
    ? {
        dir: null,
        filename: raw.resultFilename === undefined ? null : flag.text("--result-filename", raw.resultFilename),
        detailed: raw.saveDetailed === true,
        metrics: parsePercentileMetrics("--percentile-metrics", raw.percentileMetrics),
        percentiles: chosenPercentiles.length > 0 ? chosenPercentiles : [99],
      }
    : null;
  if (saveResult?.filename && /[/\\]/.test(saveResult.filename)) throw new UsageError(`--result-filename: expected a file name (the folder is --result-dir), got "${saveResult.filename}"`);
  let extraBody = parseExtraBody("--extra-body", raw.extraBody);
  for (const [key, name, field] of SAMPLING_FLAGS) {
    if (raw[key] === undefined) continue;
    if (!SAMPLING_BACKENDS.includes(backendFlags.backend)) throw new UsageError(`${name} is sent by the OpenAI backends (${SAMPLING_BACKENDS.join(", ")}); for --backend ${backendFlags.backend} put it in --extra-body where its protocol takes it`);
    const value = key === "topK" ? flag.positiveInteger(name, raw[key]) : flag.nonNegativeNumber(name, raw[key], 0);
    if (extraBody && field in extraBody) throw new UsageError(`${name} and --extra-body's "${field}" say the same thing: give one`);
    extraBody = { ...extraBody, [field]: value };
  }

  // scale-out (issue 11): this process's shard of the point and its start barrier
  const shardOptions = context.shards === false ? parseShardOptions({}, {}) : parseShardOptions(raw);
  checkShardFits(shardOptions.shard ?? (shardOptions.workers > 1 ? { index: 0, count: shardOptions.workers } : null), { requestRate: rate, numClients, numRequests, maxConcurrency: flag.positiveInteger("--max-concurrency", raw.maxConcurrency, null) });

  return {
    ...backendFlags,
    ...shardOptions,
    extraBody,
    headers: parseHeaders("--header", raw.header),
    percentiles: [...new Set([...chosenPercentiles, ...(saveResult?.percentiles ?? []), ...percentilesOfThresholds(thresholds)])],
    thresholds,
    saveResult,
    // "": not given; the runner asks the server for its only model where the requests name one
    model: raw.model === undefined ? "" : flag.text("--model", raw.model),
    dataset: trace ? "trace" : synthetic ? "synthetic" : "file",
    datasetPath: synthetic || trace ? null : flag.text("--dataset-path", raw.datasetPath),
    synthetic: synthetic
      ? {
          inputLen: flag.positiveInteger("--input-len", raw.inputLen),
          inputLenStd: flag.nonNegativeNumber("--input-len-std", raw.inputLenStd, 0),
          outputLenStd: flag.nonNegativeNumber("--output-len-std", raw.outputLenStd, 0),
          prefixLen: flag.nonNegativeInteger("--prefix-len", raw.prefixLen, 0),
          rangeRatio: typeof raw.lengthRangeRatio === "number" ? raw.lengthRangeRatio : 0,
        }
      : null,
    minInputLen: flag.positiveInteger("--min-input-len", raw.minInputLen, null),
    maxInputLen: flag.positiveInteger("--max-input-len", raw.maxInputLen, null),
    maxTotalLen: flag.positiveInteger("--max-total-len", raw.maxTotalLen, null),
    systemPromptPath: raw.systemPromptPath === undefined ? null : flag.text("--system-prompt-path", raw.systemPromptPath),
    numRequests,
    numClients,
    rampUpTimeS: flag.nonNegativeSeconds("--ramp-up-time", raw.rampUpTime, rate === null ? numClients * 0.1 : 0)!,
    requestRate: rate,
    burstiness: flag.positiveNumber("--burstiness", raw.burstiness, 1),
    maxConcurrency: flag.positiveInteger("--max-concurrency", raw.maxConcurrency, null),
    stopTimeS,
    drainTimeoutS: flag.nonNegativeSeconds("--drain-timeout", raw.drainTimeout, DEFAULT_DRAIN_TIMEOUT_S)!,
    outputLen,
    requestTimeoutS: flag.positiveSeconds("--request-timeout", raw.requestTimeout, DEFAULT_REQUEST_TIMEOUT_S),
    seed: flag.nonNegativeInteger("--seed", raw.seed, 0),
    numTurns,
    thinkTimeS: flag.nonNegativeSeconds("--think-time", raw.thinkTime, 0)!,
    warmupRequests: flag.nonNegativeInteger("--warmup-requests", raw.warmupRequests, 0),
    goodput: parseGoodput("--goodput", raw.goodput),
    serverGauges: raw.serverMetrics !== false,
    preconnectRate: raw.preconnect === false ? null : flag.positiveNumber("--preconnect-rate", raw.preconnectRate, DEFAULT_PRECONNECT_RATE),
    tokenizer,
    resultDir: raw.resultDir === undefined ? null : flag.text("--result-dir", raw.resultDir),
    modelSize: flag.text("--model-size", raw.modelSize, ""),
    tp: flag.positiveInteger("--tp", raw.tp, 1)!,
    mode: flag.text("--mode", raw.mode, ""),
    progress: raw.progress !== false,
    traceFile: trace,
    numRuns: flag.positiveInteger("--num-runs", raw.numRuns, 1)!,
  };
}

/** --trace FILE [--trace-speed X]: the trace is the workload, so the other workload and dataset flags do not apply. */
function parseTraceFlags(raw: RawFlags): RunOptions["traceFile"] {
  if (raw.trace === undefined) {
    if (raw.traceSpeed !== undefined) throw new UsageError("--trace-speed scales a --trace replay: give --trace FILE");
    return null;
  }
  const path = flag.text("--trace", raw.trace);
  for (const [name, value] of [["--num-clients", raw.numClients], ["--request-rate", raw.requestRate], ["--dataset-path", raw.datasetPath], ["--dataset", raw.dataset], ["--num-turns", raw.numTurns], ["--burstiness", raw.burstiness], ["--warmup-requests", raw.warmupRequests]] as const) {
    if (value !== undefined) throw new UsageError(`--trace replays the trace's own requests at their times: drop ${name} (sessions in the trace are its multi-turn conversations)`);
  }
  return { path, speed: flag.positiveNumber("--trace-speed", raw.traceSpeed, 1) };
}
