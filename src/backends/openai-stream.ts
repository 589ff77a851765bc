import { numberOf, objectOf, stringOf, type EventDecoder, type StreamState } from "./stream-state.ts";

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

/**
 * Decodes OpenAI streaming chunks. With usage in every chunk (`continuous_usage_stats`) the growth
 * of `completion_tokens` is the chunk's token count; without it, a chunk with text is one token and
 * the final usage chunk gives the total. `textOf` picks the text out of a choice (completions: `text`,
 * chat: `delta.content`).
 */
export function openAiDecoder(state: StreamState, textOf: (choice: Record<string, unknown>) => { text: string; carriesToken: boolean }): EventDecoder {
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
    if (promptTokens !== null) state.outcome.serverPromptTokens = promptTokens;
    if (completionTokens !== null) state.outcome.serverOutTokens = completionTokens;
    const choices = Array.isArray(chunk.choices) ? chunk.choices : [];
    const choice = objectOf(choices[0]);
    if (choice === null) return;
    const finishReason = stringOf(choice.finish_reason);
    if (finishReason) {
      state.outcome.finishReason = finishReason;
      state.finished = true; // older LightLLM sends no [DONE]
    }
    const { text, carriesToken } = textOf(choice);
    const tokens = completionTokens !== null ? Math.max(0, completionTokens - state.counted) : carriesToken ? 1 : 0;
    state.tokens(at, tokens, text);
  };
}

/** Load gauges of the OpenAI-compatible servers that have them: vLLM's, and SGLang's under its OpenAI API. */
export const OPENAI_GAUGES = {
  running: ["vllm:num_requests_running", "sglang:num_running_reqs"],
  waiting: ["vllm:num_requests_waiting", "sglang:num_queue_reqs"],
  kv_cache_usage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage"],
};

/** Health: /health (vLLM, SGLang), else /v1/models (any OpenAI-compatible server). */
export const OPENAI_HEALTH_PATHS = ["/health", "/v1/models"];
