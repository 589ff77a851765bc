import { approximateTokens, cachedPrefix, outputLength, readJsonBody, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
import { openAiError, openAiInfoRoutes, openAiSampling, openAiStreamError, usageOf } from "./openai-shared.ts";
import type { HttpMockProtocol } from "./protocol.ts";

async function completions(request: Request, context: MockContext): Promise<Response> {
  const body = await readJsonBody(request);
  if (body === null) return openAiError("request body is not JSON");
  if (typeof body.prompt !== "string") return openAiError("prompt must be a string");
  const sampling = openAiSampling(body, context);
  if (sampling instanceof Response) return sampling;

  const promptTokens = approximateTokens(body.prompt);
  const outputTokens = outputLength(context, body.prompt, sampling.maxTokens, sampling.minTokens, sampling.ignoreEos);
  const id = `cmpl-${context.nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = sampling.model;
  const cachedTokens = cachedPrefix(context, body.prompt, promptTokens);
  const cachedReport = context.prefixCache === null ? null : cachedTokens;

  return streamGeneration(context, request, body.prompt, outputTokens, {
    tokens(texts, first, finished) {
      return sseEvent({
        id, object: "text_completion", created, model,
        choices: [{ index: 0, text: texts.join(""), logprobs: null, finish_reason: finished ? "length" : null, stop_reason: null }],
        usage: sampling.continuousUsage ? usageOf(promptTokens, first + texts.length, cachedReport) : null,
      });
    },
    end() {
      const final = sampling.includeUsage ? sseEvent({ id, object: "text_completion", created, model, choices: [], usage: usageOf(promptTokens, outputTokens, cachedReport) }) : "";
      return final + sseEvent("[DONE]");
    },
    error: openAiStreamError,
  }, undefined, cachedTokens);
}

/** vLLM's OpenAI-compatible completions. */
export const openAiCompletionsProtocol: HttpMockProtocol = {
  kind: "http",
  name: "vllm",
  routes: { "POST /v1/completions": completions, ...openAiInfoRoutes },
  error: openAiError,
};
