import { numberOf, objectOf, reasoningTokensOf, stringOf, thinkingShare, type EventDecoder, type StreamState } from "./stream-state.ts";

/** What the two OpenAI backends share: sampling fields, usage-based token counting, errors, health. */

/** Asks for exactly `outputLen` tokens, greedy, streamed, with usage in every chunk where the server has it. */
export function openAiSamplingFields(model: string, outputLen: number): Record<string, unknown> {
  return {
    ...(model === "" ? {} : { model }),
    max_tokens: outputLen,
    min_tokens: outputLen,
    ignore_eos: true,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true, continuous_usage_stats: true },
  };
}

/** What one choice of a chunk carried; one object per stream, refilled for every chunk. */
export interface ChoiceOutput {
  /** The answer's content (what a later turn sends back). */
  content: string;
  /** Thinking (reasoning) text. */
  thinking: string;
  /** Characters of the answer's other output: tool calls, refusals, any other generated field. Tokens, but not content. */
  otherChars: number;
}

/** Fills `into` (already emptied) with what a choice carried. */
export type ChoiceReader = (choice: Record<string, unknown>, into: ChoiceOutput) => void;

/**
 * Decodes OpenAI streaming chunks. With usage in every chunk (`continuous_usage_stats`) the growth
 * of `completion_tokens` is the chunk's token count; without it, a chunk with any generated output
 * is one token and the final usage chunk gives the total. Of a chunk's tokens, the thinking ones are
 * the growth of the server's reasoning count where it reports one per chunk, else the thinking
 * text's share (`thinkingShare`). `read` picks the output out of a choice (completions: `text`,
 * chat: the delta's fields).
 */
export function openAiDecoder(state: StreamState, read: ChoiceReader): EventDecoder {
  const output: ChoiceOutput = { content: "", thinking: "", otherChars: 0 };
  return (payload, at) => {
    if (payload === "[DONE]") {
      state.ended = true;
      return;
    }
    const chunk = state.json(payload);
    if (chunk === null || state.failOnServerError(chunk)) return;
    if (state.outcome.requestId == null && typeof chunk.id === "string") state.outcome.requestId = chunk.id; // once, from the first chunk
    const usage = objectOf(chunk.usage);
    const completionTokens = numberOf(usage?.completion_tokens);
    const promptTokens = numberOf(usage?.prompt_tokens);
    const reasoningTokens = reasoningTokensOf(usage);
    if (promptTokens !== null) state.outcome.serverPromptTokens = promptTokens;
    if (completionTokens !== null) state.outcome.serverOutTokens = completionTokens;
    if (reasoningTokens !== null) state.outcome.serverReasoningTokens = reasoningTokens;
    const cached = usage === null ? null : cachedTokensOf(usage);
    if (cached !== null) state.outcome.serverCachedTokens = cached;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = objectOf(choices[0]);
    if (choice === null) return;
    const finishReason = stringOf(choice.finish_reason);
    if (finishReason) {
      state.outcome.finishReason = finishReason;
      state.finished = true; // older LightLLM sends no [DONE]
    }
    output.content = "";
    output.thinking = "";
    output.otherChars = 0;
    read(choice, output);
    const thinkingChars = output.thinking.length;
    const answerChars = output.content.length + output.otherChars;
    const tokens = completionTokens !== null ? Math.max(0, completionTokens - state.counted) : thinkingChars + answerChars > 0 ? 1 : 0;
    // a per-chunk reasoning count of 0 is SGLang's "not counted" (before its #15562), not a count
    const thinking =
      completionTokens !== null && reasoningTokens !== null && reasoningTokens > 0
        ? Math.min(tokens, Math.max(0, reasoningTokens - state.thinkingCounted))
        : thinkingShare(tokens, thinkingChars, answerChars);
    state.tokens(at, tokens, output.content, thinking, output.thinking);
  };
}

/** `usage.prompt_tokens_details.cached_tokens` (vLLM with --enable-prompt-tokens-details, llama-server, OpenAI), or null. */
function cachedTokensOf(usage: Record<string, unknown>): number | null {
  return numberOf(objectOf(usage.prompt_tokens_details)?.cached_tokens);
}

/** Completions: the choice's `text`. */
export function readCompletionChoice(choice: Record<string, unknown>, into: ChoiceOutput): void {
  into.content = stringOf(choice.text) ?? "";
}

/** Delta fields that are not generated output, though some servers send them as strings. */
const NOT_GENERATED = new Set(["role", "name", "id", "type", "index", "status"]);

/**
 * Chat: every field of the delta that carries generated output. `content` is the answer's text;
 * `reasoning` (vLLM since Oct 2025) and `reasoning_content` (DeepSeek, SGLang, llama.cpp, older
 * vLLM) are thinking (servers sending both during the rename carry the same text: it counts once);
 * `tool_calls[].function.name` and `.arguments`, a legacy `function_call`, `refusal` and any other
 * non-empty string field are the answer's other output. A role-only or empty delta carries nothing.
 */
export function readChatDelta(choice: Record<string, unknown>, into: ChoiceOutput): void {
  const delta = objectOf(choice.delta);
  if (delta === null) return;
  for (const key in delta) {
    const value = delta[key];
    if (value === null || value === undefined) continue;
    switch (key) {
      case "content":
        if (typeof value === "string") into.content = value;
        break;
      case "reasoning":
      case "reasoning_content":
        if (typeof value === "string" && value.length > into.thinking.length) into.thinking = value;
        break;
      case "tool_calls":
        if (Array.isArray(value)) for (const call of value) into.otherChars += functionChars(objectOf(call)?.function);
        break;
      case "function_call":
        into.otherChars += functionChars(value);
        break;
      default:
        if (typeof value === "string" && !NOT_GENERATED.has(key)) into.otherChars += value.length;
    }
  }
}

/** Characters of a streamed function call's name and arguments pieces. */
function functionChars(value: unknown): number {
  const fn = objectOf(value);
  if (fn === null) return 0;
  return (stringOf(fn.name)?.length ?? 0) + (stringOf(fn.arguments)?.length ?? 0);
}

/** Health: /health (vLLM, SGLang), else /v1/models (any OpenAI-compatible server). */
export const OPENAI_HEALTH_PATHS = ["/health", "/v1/models"];
