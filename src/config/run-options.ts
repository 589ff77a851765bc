import { parseBackendFlags, type BackendFlags } from "./backend-flags.ts";
import { UsageError } from "./usage-error.ts";
import { TOKENIZER_NAMES, type TokenizerName } from "../dataset/tokenizer.ts";
import * as flag from "./flag-values.ts";

/** Everything one `llmbench run` needs, validated. */
export interface RunOptions extends BackendFlags {
  model: string;
  datasetPath: string;
  numRequests: number | null;
  numClients: number;
  rampUpTimeS: number;
  stopTimeS: number | null;
  drainTimeoutS: number;
  outputLen: number | undefined;
  requestTimeoutS: number;
  seed: number;
  tokenizer: TokenizerName;
  resultDir: string | null;
  modelSize: string;
  tp: number;
  mode: string;
  progress: boolean;
}

export const DEFAULT_REQUEST_TIMEOUT_S = 600;
export const DEFAULT_DRAIN_TIMEOUT_S = 60;

/** Flags as cac parsed them (camelCase keys). */
export type RawFlags = Record<string, unknown>;

export function parseRunOptions(raw: RawFlags): RunOptions {
  const numClients = flag.positiveInteger("--num-clients", raw.numClients, 1)!;
  const numRequests = flag.positiveInteger("--num-requests", raw.numRequests, null);
  const stopTimeS = flag.nonNegativeSeconds("--stop-time", raw.stopTime, null);
  if (numRequests === null && stopTimeS === null) {
    throw new UsageError("give --num-requests N or --stop-time S (or both): a run needs a request budget or a duration");
  }
  if (stopTimeS === 0) throw new UsageError("--stop-time: expected a number of seconds > 0, got 0");
  return {
    ...parseBackendFlags(raw),
    model: flag.text("--model", raw.model),
    datasetPath: flag.text("--dataset-path", raw.datasetPath),
    numRequests,
    numClients,
    rampUpTimeS: flag.nonNegativeSeconds("--ramp-up-time", raw.rampUpTime, numClients * 0.1)!,
    stopTimeS,
    drainTimeoutS: flag.nonNegativeSeconds("--drain-timeout", raw.drainTimeout, DEFAULT_DRAIN_TIMEOUT_S)!,
    outputLen: flag.positiveInteger("--output-len", raw.outputLen, null) ?? undefined,
    requestTimeoutS: flag.positiveSeconds("--request-timeout", raw.requestTimeout, DEFAULT_REQUEST_TIMEOUT_S),
    seed: flag.nonNegativeInteger("--seed", raw.seed, 0),
    tokenizer: flag.oneOf("--tokenizer", raw.tokenizer, TOKENIZER_NAMES, "cl100k_base"),
    resultDir: raw.resultDir === undefined ? null : flag.text("--result-dir", raw.resultDir),
    modelSize: flag.text("--model-size", raw.modelSize, ""),
    tp: flag.positiveInteger("--tp", raw.tp, 1)!,
    mode: flag.text("--mode", raw.mode, ""),
    progress: raw.progress !== false,
  };
}
