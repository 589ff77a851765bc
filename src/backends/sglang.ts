import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { numberOf, objectOf, stringOf, type EventDecoder, type StreamState } from "./stream-state.ts";

/**
 * SGLang's native API: POST /generate. Each event's `text` is the whole answer so far (the new
 * piece is the suffix) and `meta_info.completion_tokens` its token count (its growth is the
 * event's tokens). Servers started with --stream-output send pieces instead: a text that does not
 * extend the answer so far is taken as a piece.
 */
export const sglangBackend = httpBackend({
  name: "sglang",
  defaultBaseUrl: "http://127.0.0.1:30000",
  defaultApiKeyEnv: null,
  path: "/generate",
  health: ["/health"],
  body: (request) => ({
    text: promptText(request.messages),
    sampling_params: {
      max_new_tokens: request.outputLen,
      min_new_tokens: request.outputLen,
      temperature: 0,
      ignore_eos: true,
    },
    stream: true,
  }),
  decoder: (state) => sglangDecoder(state),
});

export function sglangDecoder(state: StreamState): EventDecoder {
  return (payload, at) => {
    if (payload === "[DONE]") {
      state.ended = true;
      return;
    }
    const event = state.json(payload);
    if (event === null || state.failOnServerError(event)) return;
    const text = stringOf(event.text) ?? "";
    const soFar = state.outcome.text;
    const piece = text.startsWith(soFar) ? text.slice(soFar.length) : text;
    const meta = objectOf(event.meta_info);
    const completionTokens = numberOf(meta?.completion_tokens);
    const promptTokens = numberOf(meta?.prompt_tokens);
    if (promptTokens !== null) state.outcome.serverPromptTokens = promptTokens;
    if (completionTokens !== null) state.outcome.serverOutTokens = completionTokens;
    const tokens = completionTokens !== null ? Math.max(0, completionTokens - state.counted) : piece.length > 0 ? 1 : 0;
    state.tokens(at, tokens, piece);
    const finish = meta?.finish_reason;
    if (finish !== undefined && finish !== null) {
      // {"type": "length", "length": 128} in current versions, a plain string in older ones
      state.outcome.finishReason = stringOf(finish) ?? stringOf(objectOf(finish)?.type) ?? JSON.stringify(finish);
      const cached = numberOf(meta?.cached_tokens);
      if (cached !== null) state.outcome.serverCachedTokens = cached;
      state.finished = true;
    }
  };
}
