import type { Backend } from "../backends/backend.ts";
import { describeNetworkError } from "../backends/transport/http.ts";
import { backendFor } from "./backend-for.ts";
import { UsageError } from "../common/usage-error.ts";
import type { DatasetSource } from "../dataset/conversation.ts";
import { openDatasetFile } from "../dataset/file-dataset.ts";
import { ConversationSampler } from "../dataset/sampler.ts";
import { syntheticDataset } from "../dataset/synthetic.ts";
import { loadTokenizer, type Tokenizer } from "../dataset/tokenizer.ts";
import type { TargetSettings } from "../config/run-settings.ts";

/** What a benchmark is aimed at and with which data: shared by every point of a run or sweep. */
export type TargetSpec = TargetSettings;

export interface Target {
  backend: Backend;
  sampler: ConversationSampler;
  tokenizer: Tokenizer;
  /** Client-tokenizer count of the system prompt, when there is one. */
  systemPromptTokens: number | null;
}

const HEALTH_TIMEOUT_MS = 10_000;

/** Loads the tokenizer, dataset and system prompt and builds the backend; bad files are UsageErrors. */
export async function loadTarget(spec: TargetSpec): Promise<Target> {
  const tokenizer = await loadTokenizer(spec.tokenizer);
  const systemPrompt = spec.systemPromptPath === null ? null : await readSystemPrompt(spec.systemPromptPath);
  let source: DatasetSource;
  let fixedOutputLen = spec.outputLen;
  if (spec.dataset === "synthetic") {
    if (!spec.synthetic || spec.outputLen === undefined) throw new UsageError("--dataset synthetic needs --input-len N and --output-len M");
    source = syntheticDataset({ ...spec.synthetic, outputLen: spec.outputLen, seed: spec.seed }, tokenizer);
    fixedOutputLen = undefined; // the synthetic source draws each request's length around --output-len
  } else if (spec.dataset === "trace") {
    source = { name: "trace", size: 0, conversation: () => null }; // the trace brings its own prompts
  } else {
    if (spec.datasetPath === null) throw new UsageError("--dataset-path is required (or --dataset synthetic)");
    source = openDatasetFile(spec.datasetPath);
  }
  const sampler = new ConversationSampler(source, tokenizer, {
    fixedOutputLen,
    systemPrompt,
    minInputLen: spec.minInputLen,
    maxInputLen: spec.maxInputLen,
    maxTotalLen: spec.maxTotalLen,
  });
  const backend = backendFor(spec);
  return { backend, sampler, tokenizer, systemPromptTokens: systemPrompt === null ? null : tokenizer.count(systemPrompt) };
}

async function readSystemPrompt(path: string): Promise<string> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new UsageError(`--system-prompt-path ${path}: file not found`);
  const text = await file.text();
  if (text.trim() === "") throw new UsageError(`--system-prompt-path ${path}: the file is empty`);
  return text;
}

export interface ReadinessCheck {
  /** Null when the server answered as ready. */
  failure: string | null;
  ms: number;
}

/**
 * The backend's health check, as a run does it before measuring; it also opens the connection
 * (a gRPC channel's handshake is tens of ms), so a probe's TTFT is measured on a warm one too.
 */
export async function checkReadiness(backend: Backend, timeoutMs = HEALTH_TIMEOUT_MS): Promise<ReadinessCheck> {
  const started = performance.now();
  try {
    await backend.checkHealth(AbortSignal.timeout(timeoutMs));
    return { failure: null, ms: performance.now() - started };
  } catch (error) {
    const failure = (error as Error)?.name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : describeNetworkError(error);
    return { failure, ms: performance.now() - started };
  }
}

/** One health request before a run; an unreachable server is the user's problem to fix (exit 2), named with its URL. */
export async function checkReachable(backend: Backend, spec: Pick<TargetSpec, "backend" | "baseUrl" | "pplProto" | "apiKeyEnv" | "insecure" | "model">): Promise<void> {
  const { failure } = await checkReadiness(backend);
  if (failure === null) return;
  const other = await otherPplProtoAnswers(spec);
  if (other !== null) {
    throw new UsageError(
      `--ppl-proto ${spec.pplProto ?? "v2"}: the ppl server at ${spec.baseUrl} speaks the other message set, ${other} (it answered a ${other} request; ours failed: ${failure}): give --ppl-proto ${other}`,
    );
  }
  throw new UsageError(`--base-url ${spec.baseUrl}: the ${backend.name} server is not reachable (${failure})`);
}

/**
 * For ppl, whose two message sets share service and method names (a mismatch shows only as a
 * request the server cannot decode): the other set, when a one-token request in it succeeds.
 */
export async function otherPplProtoAnswers(spec: Pick<TargetSpec, "backend" | "baseUrl" | "pplProto" | "apiKeyEnv" | "insecure" | "model">): Promise<"v1" | "v2" | null> {
  if (spec.backend !== "ppl") return null;
  const other = (spec.pplProto ?? "v2") === "v2" ? "v1" : "v2";
  const backend = backendFor({ ...spec, backend: "ppl", pplProto: other });
  try {
    const { failure } = await checkReadiness(backend, 5000);
    return failure === null ? other : null;
  } finally {
    backend.close?.();
  }
}
