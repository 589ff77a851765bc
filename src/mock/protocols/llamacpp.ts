import { approximateTokens, cachedPrefix, integerField, jsonResponse, outputLength, outputShape, prometheusGauges, readJsonBody, sseEvent, streamGeneration, tokenId, type MockContext } from "../generation.ts";
import { outputParts, thinkingText, tokenKind } from "../thinking.ts";
import type { HttpMockProtocol } from "./protocol.ts";

function llamacppError(message: string, status = 400): Response {
  return jsonResponse({ error: { code: status, message, type: status === 401 ? "authentication_error" : "invalid_request_error" } }, status);
}

/** llama.cpp's /completion: one event per batch of ready tokens, then a final `stop: true` event without text carrying the counts. */
async function completion(request: Request, context: MockContext): Promise<Response> {
  const body = await readJsonBody(request);
  if (body === null) return llamacppError("request body is not JSON");
  if (typeof body.prompt !== "string") return llamacppError("\"prompt\" must be a string");
  const nPredict = integerField(body.n_predict, 16, 1);
  if (nPredict === null) return llamacppError("\"n_predict\" must be a positive integer");
  if (body.stream !== true) return llamacppError("llmbench mock only streams: set stream to true");

  const promptTokens = approximateTokens(body.prompt);
  const outputTokens = outputLength(context, body.prompt, nPredict, 0, body.ignore_eos === true);
  const returnTokens = body.return_tokens === true;
  const shape = outputShape(context);
  const parts = outputParts(shape, outputTokens);
  // with a reasoning format the server streams the thinking as reasoning_content; without one, as <think> in the content
  const separate = shape.reasoningField !== "think-tags";
  const cachedTokens = cachedPrefix(context, body.prompt, promptTokens);
  return streamGeneration(context, request, body.prompt, outputTokens, {
    tokens(texts, first) {
      const ids = returnTokens ? texts.map((_, i) => tokenId(first + i)) : [];
      let content = "";
      let thinking = "";
      texts.forEach((text, i) => {
        if (separate && tokenKind(parts, first + i, outputTokens) === "thinking") thinking += thinkingText(first + i, parts.thinking, false);
        else content += text;
      });
      return sseEvent({
        index: 0, content, ...(thinking === "" ? {} : { reasoning_content: thinking }), tokens: ids, stop: false, id_slot: 0,
        tokens_predicted: first + texts.length, tokens_evaluated: promptTokens,
      });
    },
    end() {
      return sseEvent({
        index: 0, content: "", tokens: [], id_slot: 0, stop: true, model: context.model,
        tokens_predicted: outputTokens, tokens_evaluated: promptTokens,
        stop_type: outputTokens === nPredict ? "limit" : "eos", stopping_word: "", tokens_cached: promptTokens + outputTokens,
        timings: { cache_n: cachedTokens, prompt_n: promptTokens - cachedTokens, predicted_n: outputTokens },
      });
    },
    error: (message) => sseEvent({ error: { code: 500, message, type: "server_error" } }),
  }, undefined, cachedTokens);
}

export const llamacppProtocol: HttpMockProtocol = {
  kind: "http",
  name: "llamacpp",
  routes: {
    "POST /completion": completion,
    "GET /health": () => jsonResponse({ status: "ok" }),
    // llama-server's /metrics (with --metrics): its own names, whatever endpoint the client speaks
    "GET /metrics": (_request, context) => {
      const load = context.timing.load();
      return prometheusGauges([
        ["llamacpp:requests_processing", "Number of requests processing.", load.running],
        ["llamacpp:requests_deferred", "Number of requests deferred.", load.waiting],
      ]);
    },
  },
  error: llamacppError,
};
