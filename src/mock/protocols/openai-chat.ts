import { approximateTokens, outputLength, readJsonBody, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
import { openAiError, openAiInfoRoutes, openAiSampling, openAiStreamError, usageOf } from "./openai-shared.ts";
import type { HttpMockProtocol } from "./protocol.ts";

/** The conversation's text, or null when `messages` is not a list of {role, content: string}. */
function conversationText(messages: unknown): string | null {
  if (!Array.isArray(messages) || messages.length === 0) return null;
  const parts: string[] = [];
  for (const message of messages) {
    const { role, content } = (message ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || typeof content !== "string") return null;
    parts.push(content);
  }
  return parts.join("\n\n");
}

async function chatCompletions(request: Request, context: MockContext): Promise<Response> {
  const body = await readJsonBody(request);
  if (body === null) return openAiError("request body is not JSON");
  const text = conversationText(body.messages);
  if (text === null) return openAiError("messages must be a non-empty list of {role, content} with string content");
  const sampling = openAiSampling(body, context);
  if (sampling instanceof Response) return sampling;

  const promptTokens = approximateTokens(text);
  const outputTokens = outputLength(context, text, sampling.maxTokens, sampling.minTokens, sampling.ignoreEos);
  const id = `chatcmpl-${context.nextId()}`;
  const created = Math.floor(Date.now() / 1000);
  const model = sampling.model;
  const chunk = (delta: Record<string, unknown>, finishReason: string | null, completionTokens: number) =>
    sseEvent({
      id, object: "chat.completion.chunk", created, model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      usage: sampling.continuousUsage ? usageOf(promptTokens, completionTokens) : null,
    });

  return streamGeneration(context, request, text, outputTokens, {
    // As vLLM does: the assistant's role, with empty content, as soon as the request is accepted. It is not a token.
    prelude: chunk({ role: "assistant", content: "" }, null, 0),
    tokens: (texts, first, finished) => chunk({ content: texts.join("") }, finished ? "length" : null, first + texts.length),
    end() {
      const final = sampling.includeUsage
        ? sseEvent({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usageOf(promptTokens, outputTokens) })
        : "";
      return final + sseEvent("[DONE]");
    },
    error: openAiStreamError,
  });
}

/** OpenAI chat completions, as vLLM serves them. */
export const openAiChatProtocol: HttpMockProtocol = {
  kind: "http",
  name: "openai-chat",
  routes: { "POST /v1/chat/completions": chatCompletions, ...openAiInfoRoutes },
  error: openAiError,
};
