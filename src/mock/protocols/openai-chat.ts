import { approximateTokens, cachedPrefix, outputLength, outputShape, readJsonBody, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
import { outputParts, thinkingText, tokenKind, toolCallPiece, type OutputParts, type OutputShape } from "../thinking.ts";
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
  const shape = outputShape(context);
  const parts = outputParts(shape, outputTokens);
  const cachedTokens = cachedPrefix(context, text, promptTokens);
  const cachedReport = context.prefixCache === null ? null : cachedTokens;
  // DeepSeek's API and SGLang count the thinking in usage; vLLM does not
  const usage = (completionTokens: number) =>
    shape.reasoningField === "reasoning_content" && parts.thinking > 0
      ? { ...usageOf(promptTokens, completionTokens, cachedReport), completion_tokens_details: { reasoning_tokens: Math.min(parts.thinking, completionTokens) } }
      : usageOf(promptTokens, completionTokens, cachedReport);
  const chunk = (delta: Record<string, unknown>, finishReason: string | null, completionTokens: number) =>
    sseEvent({
      id, object: "chat.completion.chunk", created, model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      usage: sampling.continuousUsage ? usage(completionTokens) : null,
    });

  return streamGeneration(context, request, text, outputTokens, {
    // As vLLM does: the assistant's role, with empty content, as soon as the request is accepted. It is not a token.
    prelude: chunk({ role: "assistant", content: "" }, null, 0),
    tokens: (texts, first, finished) => chunk(deltaOf(shape, parts, outputTokens, texts, first), finished ? "length" : null, first + texts.length),
    end() {
      const final = sampling.includeUsage
        ? sseEvent({ id, object: "chat.completion.chunk", created, model, choices: [], usage: usage(outputTokens) })
        : "";
      return final + sseEvent("[DONE]");
    },
    error: openAiStreamError,
  }, undefined, cachedTokens);
}

/**
 * The delta of one event (tokens first … first+texts.length−1): thinking in the shape's field
 * (`reasoning` as vLLM sends it; `reasoning_content` with SGLang's explicit nulls; in the content
 * as `<think>…</think>` without a reasoning parser), the tool call in `tool_calls` (the first
 * piece with its id and name), the rest as content. An event spanning two parts carries both.
 */
function deltaOf(shape: OutputShape, parts: OutputParts, total: number, texts: string[], first: number): Record<string, unknown> {
  let thinking = "";
  let content = "";
  let toolName: string | undefined;
  let toolArguments = "";
  let tool = false;
  texts.forEach((text, i) => {
    const index = first + i;
    const kind = tokenKind(parts, index, total);
    if (kind === "thinking" && shape.reasoningField !== "think-tags") thinking += thinkingText(index, parts.thinking, false);
    else if (kind === "tool") {
      tool = true;
      const piece = toolCallPiece(index - (total - parts.tool));
      toolName ??= piece.name;
      toolArguments += piece.arguments;
    } else content += text;
  });
  const delta: Record<string, unknown> = shape.reasoningField === "reasoning_content" ? { role: null, content: null, reasoning_content: null, tool_calls: null } : {};
  if (thinking !== "") delta[shape.reasoningField] = thinking;
  if (content !== "" || (thinking === "" && !tool)) delta.content = content;
  if (tool) {
    const call = toolName === undefined ? {} : { id: "call_0", type: "function" };
    delta.tool_calls = [{ index: 0, ...call, function: { ...(toolName === undefined ? {} : { name: toolName }), arguments: toolArguments } }];
  }
  return delta;
}

/** OpenAI chat completions, as vLLM serves them. */
export const openAiChatProtocol: HttpMockProtocol = {
  kind: "http",
  name: "openai-chat",
  routes: { "POST /v1/chat/completions": chatCompletions, ...openAiInfoRoutes },
  error: openAiError,
};
