/**
 * `--model` is optional: a protocol whose requests carry no model needs none, and an OpenAI-style
 * server that lists exactly one model (GET /v1/models) is asked about that one. Otherwise the
 * user is told to name it, with the models the server lists.
 */
import { describeNetworkError, getText } from "../backends/transport/http.ts";
import { readApiKey } from "../common/api-key.ts";
import { UsageError } from "../common/usage-error.ts";
import type { TargetSettings } from "../config/run-settings.ts";

/** The backends whose requests name the model (the OpenAI-compatible ones). */
const MODEL_IN_REQUEST = new Set(["vllm", "openai-chat"]);

const MODELS_TIMEOUT_MS = 10_000;

/** The model the requests name: --model, the server's only model, or "" where the protocol sends none. */
export async function resolveModel(settings: Pick<TargetSettings, "backend" | "baseUrl" | "model" | "apiKeyEnv" | "insecure" | "headers">): Promise<string> {
  if (settings.model !== "" || !MODEL_IN_REQUEST.has(settings.backend)) return settings.model;
  const url = new URL(`${settings.baseUrl}/v1/models`);
  const key = readApiKey(settings.apiKeyEnv);
  const headers: Record<string, string> = { ...settings.headers, ...(key ? { authorization: `Bearer ${key}` } : {}) };
  let models: string[];
  try {
    const { status, body } = await getText(url, AbortSignal.timeout(MODELS_TIMEOUT_MS), headers, settings.insecure);
    if (status !== 200) throw new Error(`HTTP ${status}`);
    const data = (JSON.parse(body) as { data?: { id?: unknown }[] }).data;
    if (!Array.isArray(data)) throw new Error("no model list in the answer");
    models = data.map((entry) => entry?.id).filter((id): id is string => typeof id === "string");
  } catch (error) {
    const why = error instanceof SyntaxError ? "not JSON" : (error as Error)?.name === "TimeoutError" ? `no answer within ${MODELS_TIMEOUT_MS / 1000} s` : describeNetworkError(error);
    throw new UsageError(`--model is required: the ${settings.backend} requests name their model, and ${url.href} could not say which (${why}): give --model NAME`);
  }
  if (models.length === 1) return models[0]!;
  const listed = models.length === 0 ? "lists no model" : `lists ${models.length} models (${models.slice(0, 8).join(", ")}${models.length > 8 ? ", …" : ""})`;
  throw new UsageError(`--model is required: the server at ${settings.baseUrl} ${listed}: give --model NAME`);
}
