import { integerField, jsonResponse, outputShape, prometheusGauges, sseEvent, type MockContext } from "../generation.ts";
import type { MockRoute } from "./protocol.ts";

/** What the OpenAI completions and chat endpoints share in the simulator. */

export function openAiError(message: string, status = 400): Response {
  return jsonResponse({ object: "error", message, type: status === 401 ? "AuthenticationError" : "BadRequestError", code: status }, status);
}

/** vLLM's mid-stream error event, then [DONE]. */
export function openAiStreamError(message: string): string {
  return sseEvent({ error: { message, type: "InternalServerError", param: null, code: 500 } }) + sseEvent("[DONE]");
}

export interface OpenAiSampling {
  model: string;
  maxTokens: number;
  minTokens: number;
  ignoreEos: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
}

/** The sampling fields both endpoints read, or the error answer for bad ones. */
export function openAiSampling(body: Record<string, unknown>, context: MockContext): OpenAiSampling | Response {
  const maxTokens = integerField(body.max_tokens, 16, 1);
  if (maxTokens === null) return openAiError("max_tokens must be a positive integer");
  const minTokens = integerField(body.min_tokens, 0, 0);
  if (minTokens === null) return openAiError("min_tokens must be a non-negative integer");
  if (body.stream !== true) return openAiError("llmbench mock only streams: set stream to true");
  const options = (body.stream_options ?? {}) as { include_usage?: unknown; continuous_usage_stats?: unknown };
  const includeUsage = options.include_usage === true;
  return {
    model: typeof body.model === "string" ? body.model : context.model,
    maxTokens,
    minTokens,
    ignoreEos: body.ignore_eos === true,
    includeUsage,
    continuousUsage: includeUsage && options.continuous_usage_stats === true && outputShape(context).chunkUsage,
  };
}

/** Usage; with a prefix cache also its hits in `prompt_tokens_details`, as vLLM with --enable-prompt-tokens-details. */
export function usageOf(promptTokens: number, completionTokens: number, cachedTokens: number | null = null) {
  const usage = { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
  return cachedTokens === null ? usage : { ...usage, prompt_tokens_details: { cached_tokens: cachedTokens } };
}

export const openAiInfoRoutes: Record<string, MockRoute> = {
  "GET /v1/models": (_request, context) =>
    jsonResponse({ object: "list", data: [{ id: context.model, object: "model", created: 0, owned_by: "llmbench-mock" }] }),
  "GET /health": () => new Response(null, { status: 200 }),
  "GET /metrics": (_request, context) => {
    const load = context.timing.load();
    const labels = `engine="0",model_name="${context.model}"`;
    const cache = context.prefixCache;
    return prometheusGauges([
      ["vllm:num_requests_running", "Number of requests in model execution batches.", load.running, labels],
      ["vllm:num_requests_waiting", "Number of requests waiting to be processed.", load.waiting, labels],
      // vLLM (V1) counts prefix-cache queries and hits in tokens
      ...(cache === null
        ? []
        : ([
            ["vllm:prefix_cache_queries_total", "Prefix cache queries, in terms of number of queried tokens.", cache.queriedTokens, labels, "counter"],
            ["vllm:prefix_cache_hits_total", "Prefix cache hits, in terms of number of cached tokens.", cache.hitTokens, labels, "counter"],
          ] as const)),
    ]);
  },
};
