import type { Backend } from "../backends/backend.ts";
import { createBackend } from "../backends/registry.ts";
import { describeNetworkError } from "../backends/transport/http.ts";
import { readApiKey } from "../config/backend-flags.ts";
import { UsageError } from "../config/usage-error.ts";
import { PromptPool } from "../dataset/prompt-pool.ts";
import { loadShareGpt } from "../dataset/sharegpt.ts";
import { loadTokenizer, type TokenizerName } from "../dataset/tokenizer.ts";

/** What a benchmark is aimed at and with which data: shared by every point of a run or sweep. */
export interface TargetSpec {
  backend: string;
  baseUrl: string;
  model: string;
  /** Name of the environment variable holding the API key (null: none); the key is read here and kept nowhere else. */
  apiKeyEnv: string | null;
  insecure: boolean;
  /** ppl's message set (default v2). */
  pplProto?: "v1" | "v2";
  datasetPath: string;
  tokenizer: TokenizerName;
  outputLen: number | undefined;
}

export interface Target {
  backend: Backend;
  pool: PromptPool;
}

const HEALTH_TIMEOUT_MS = 10_000;

/** Loads the dataset and tokenizer and builds the backend; bad files are UsageErrors. */
export async function loadTarget(spec: TargetSpec): Promise<Target> {
  const tokenizer = await loadTokenizer(spec.tokenizer);
  const conversations = await loadShareGpt(spec.datasetPath);
  const backend = createBackend(spec.backend, {
    baseUrl: spec.baseUrl,
    model: spec.model,
    apiKey: readApiKey(spec.apiKeyEnv),
    insecure: spec.insecure,
    pplProto: spec.pplProto,
  });
  return { backend, pool: new PromptPool(conversations, tokenizer, spec.outputLen) };
}

/** One health request; an unreachable server is the user's problem to fix (exit 2), named with its URL. */
export async function checkReachable(backend: Backend, baseUrl: string): Promise<void> {
  try {
    await backend.checkHealth(AbortSignal.timeout(HEALTH_TIMEOUT_MS));
  } catch (error) {
    const reason = (error as Error)?.name === "TimeoutError" ? `no answer within ${HEALTH_TIMEOUT_MS / 1000} s` : describeNetworkError(error);
    throw new UsageError(`--base-url ${baseUrl}: the ${backend.name} server is not reachable (${reason})`);
  }
}
