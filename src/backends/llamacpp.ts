import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { numberOf, objectOf, stringOf, thinkingShare, type EventDecoder, type StreamState } from "./stream-state.ts";

/**
 * llama.cpp's server: POST /completion. Each event's `tokens` array (filled by newer servers when
 * asked with `return_tokens`) gives its token count, else an event with content is one token; the
 * final event (`stop: true`) carries `tokens_predicted`, the server's own count, and usually no text.
 * A server with a reasoning format streams the thinking as `reasoning_content`: tokens too, not the answer's text.
 */
export const llamacppBackend = httpBackend({
  name: "llamacpp",
  defaultBaseUrl: "http://127.0.0.1:8080",
  defaultApiKeyEnv: null,
  path: "/completion",
  health: ["/health"],
  body: (request) => ({
    prompt: promptText(request.messages),
    n_predict: request.outputLen,
    ignore_eos: true,
    temperature: 0,
    stream: true,
    return_tokens: true,
  }),
  decoder: (state) => llamacppDecoder(state),
});

export function llamacppDecoder(state: StreamState): EventDecoder {
  return (payload, at) => {
    const event = state.json(payload);
    if (event === null || state.failOnServerError(event)) return;
    const text = stringOf(event.content) ?? "";
    const thinkingText = stringOf(event.reasoning_content) ?? stringOf(event.reasoning) ?? "";
    const ids = Array.isArray(event.tokens) ? event.tokens.length : 0;
    const tokens = ids > 0 ? ids : text.length + thinkingText.length > 0 ? 1 : 0;
    state.tokens(at, tokens, text, thinkingShare(tokens, thinkingText.length, text.length), thinkingText);
    if (event.stop === true) {
      const predicted = numberOf(event.tokens_predicted);
      const evaluated = numberOf(event.tokens_evaluated);
      if (predicted !== null) state.outcome.serverOutTokens = predicted;
      if (evaluated !== null) state.outcome.serverPromptTokens = evaluated;
      const cached = numberOf(objectOf(event.timings)?.cache_n);
      if (cached !== null) state.outcome.serverCachedTokens = cached;
      state.outcome.finishReason = stringOf(event.stop_type) ?? legacyStopReason(event);
      state.finished = true;
    }
  };
}

/** Servers before `stop_type` said why with flags. */
function legacyStopReason(event: Record<string, unknown>): string | null {
  if (event.stopped_limit === true) return "limit";
  if (event.stopped_eos === true) return "eos";
  if (event.stopped_word === true) return "word";
  return null;
}
