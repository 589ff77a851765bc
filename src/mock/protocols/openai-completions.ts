import { approximateTokens, cappedLength, jsonResponse, streamGeneration, type MockContext } from "../generation.ts";
import type { MockProtocol } from "./protocol.ts";

interface CompletionBody {
  model?: unknown;
  prompt?: unknown;
  max_tokens?: unknown;
  min_tokens?: unknown;
  ignore_eos?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown; continuous_usage_stats?: unknown };
}

function openAiError(message: string, status = 400): Response {
  return jsonResponse({ object: "error", message, type: "BadRequestError", code: status }, status);
}

/** How many tokens the simulator writes: exactly max_tokens with ignore_eos, else a prompt-dependent "natural" length. */
export function outputLength(prompt: string, maxTokens: number, minTokens: number, ignoreEos: boolean): number {
  if (ignoreEos) return maxTokens;
  let hash = 2166136261;
  for (let i = 0; i < prompt.length; i++) hash = Math.imul(hash ^ prompt.charCodeAt(i), 16777619);
  const natural = 1 + ((hash >>> 0) % maxTokens);
  return Math.min(maxTokens, Math.max(minTokens, natural));
}

async function completions(request: Request, context: MockContext): Promise<Response> {
  let body: CompletionBody;
  try {
    body = (await request.json()) as CompletionBody;
  } catch {
    return openAiError("request body is not JSON");
  }
  if (typeof body.prompt !== "string") return openAiError("prompt must be a string");
  const maxTokens = body.max_tokens ?? 16;
  if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1) return openAiError("max_tokens must be a positive integer");
  const minTokens = body.min_tokens ?? 0;
  if (!Number.isInteger(minTokens) || (minTokens as number) < 0) return openAiError("min_tokens must be a non-negative integer");
  if (body.stream !== true) return openAiError("llmbench mock only streams: set stream to true");

  const promptTokens = approximateTokens(body.prompt);
  const outputTokens = cappedLength(context, outputLength(body.prompt, maxTokens as number, minTokens as number, body.ignore_eos === true));
  const includeUsage = body.stream_options?.include_usage === true;
  const continuousUsage = includeUsage && body.stream_options?.continuous_usage_stats === true;
  const id = `cmpl-${context.nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = typeof body.model === "string" ? body.model : context.model;
  const usage = (completion: number) => ({ prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion });
  const event = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

  return streamGeneration(context, request, promptTokens, outputTokens, {
    prelude: ": ok\n\n",
    tokens(texts, emitted, finished) {
      return event({
        id, object: "text_completion", created, model,
        choices: [{ index: 0, text: texts.join(""), logprobs: null, finish_reason: finished ? (emitted < (maxTokens as number) ? "stop" : "length") : null, stop_reason: null }],
        usage: continuousUsage ? usage(emitted) : null,
      });
    },
    end() {
      const final = includeUsage ? event({ id, object: "text_completion", created, model, choices: [], usage: usage(outputTokens) }) : "";
      return final + "data: [DONE]\n\n";
    },
  }, body.prompt);
}

export const openAiCompletionsProtocol: MockProtocol = {
  name: "vllm",
  routes: {
    "POST /v1/completions": completions,
    "GET /v1/models": (_request, context) =>
      jsonResponse({ object: "list", data: [{ id: context.model, object: "model", created: 0, owned_by: "llmbench-mock" }] }),
    "GET /health": () => new Response(null, { status: 200 }),
  },
};
