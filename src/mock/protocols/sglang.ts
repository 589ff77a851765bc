import { approximateTokens, integerField, jsonResponse, outputLength, readJsonBody, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
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
  let answer = "";
  return streamGeneration(context, request, body.text, outputTokens, {
    tokens(texts, first, finished) {
      answer += texts.join("");
      const finishReason = finished ? (outputTokens === maxTokens ? { type: "length", length: maxTokens } : { type: "stop", matched: 2 }) : null;
      return sseEvent({
        text: answer,
        meta_info: { id, finish_reason: finishReason, prompt_tokens: promptTokens, completion_tokens: first + texts.length, cached_tokens: 0 },
        index: 0,
      });
    },
    end: () => sseEvent("[DONE]"),
    error: (message) => sseEvent({ error: { message } }) + sseEvent("[DONE]"),
  });
}

export const sglangProtocol: HttpMockProtocol = {
  kind: "http",
  name: "sglang",
  routes: {
    "POST /generate": generate,
    "GET /health": () => new Response(null, { status: 200 }),
    "GET /get_model_info": (_request, context) => jsonResponse({ model_path: context.model, tokenizer_path: context.model, is_generation: true }),
  },
  error: sglangError,
};
