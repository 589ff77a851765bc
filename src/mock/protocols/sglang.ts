import { approximateTokens, cachedPrefix, integerField, jsonResponse, outputLength, prometheusGauges, readJsonBody, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
import type { HttpMockProtocol } from "./protocol.ts";

function sglangError(message: string, status = 400): Response {
  return jsonResponse({ error: { message } }, status);
}

/** SGLang's native /generate: each event carries the whole answer so far and its token count. */
async function generate(request: Request, context: MockContext): Promise<Response> {
  const body = await readJsonBody(request);
  if (body === null) return sglangError("request body is not JSON");
  if (typeof body.text !== "string") return sglangError("text must be a string");
  if (body.stream !== true) return sglangError("llmbench mock only streams: set stream to true");
  const sampling = (body.sampling_params ?? {}) as Record<string, unknown>;
  const maxTokens = integerField(sampling.max_new_tokens, 128, 1);
  if (maxTokens === null) return sglangError("max_new_tokens must be a positive integer");
  const minTokens = integerField(sampling.min_new_tokens, 0, 0);
  if (minTokens === null) return sglangError("min_new_tokens must be a non-negative integer");

  const promptTokens = approximateTokens(body.text);
  const outputTokens = outputLength(context, body.text, maxTokens, minTokens, sampling.ignore_eos === true);
  const id = String(context.nextId());
  const cachedTokens = cachedPrefix(context, body.text, promptTokens);
  let answer = "";
  return streamGeneration(context, request, body.text, outputTokens, {
    tokens(texts, first, finished) {
      answer += texts.join("");
      const finishReason = finished ? (outputTokens === maxTokens ? { type: "length", length: maxTokens } : { type: "stop", matched: 2 }) : null;
      return sseEvent({
        text: answer,
        meta_info: { id, finish_reason: finishReason, prompt_tokens: promptTokens, completion_tokens: first + texts.length, cached_tokens: cachedTokens },
        index: 0,
      });
    },
    end: () => sseEvent("[DONE]"),
    error: (message) => sseEvent({ error: { message } }) + sseEvent("[DONE]"),
  }, undefined, cachedTokens);
}

/** SGLang's /metrics: its load gauges; with a prefix cache its token counters and its (recent) hit-rate gauge. */
function metrics(_request: Request, context: MockContext): Response {
  const load = context.timing.load();
  const labels = `model_name="${context.model}"`;
  const cache = context.prefixCache;
  return prometheusGauges([
    ["sglang:num_running_reqs", "The number of running requests.", load.running, labels],
    ["sglang:num_queue_reqs", "The number of requests in the waiting queue.", load.waiting, labels],
    ...(cache === null
      ? []
      : ([
          ["sglang:cache_hit_rate", "The prefix cache hit rate.", cache.recentHitRate(), labels],
          ["sglang:prompt_tokens_total", "Number of prefill tokens processed.", cache.queriedTokens, labels, "counter"],
          ["sglang:cached_tokens_total", "Number of cached prompt tokens.", cache.hitTokens, `${labels},cache_source="device"`, "counter"],
        ] as const)),
  ]);
}

export const sglangProtocol: HttpMockProtocol = {
  kind: "http",
  name: "sglang",
  routes: {
    "POST /generate": generate,
    "GET /metrics": metrics,
    "GET /health": () => new Response(null, { status: 200 }),
    "GET /get_model_info": (_request, context) => jsonResponse({ model_path: context.model, tokenizer_path: context.model, is_generation: true }),
  },
  error: sglangError,
};
