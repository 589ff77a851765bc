import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { numberOf, objectOf, stringOf, type EventDecoder, type StreamState } from "./stream-state.ts";

/**
 * LightLLM: POST /generate_stream. One token per event (`data:` without a space, no [DONE]); the
 * event with `finished: true` ends the answer.
 */
export const lightllmBackend = httpBackend({
  name: "lightllm",
  defaultBaseUrl: "http://127.0.0.1:8080",
  defaultApiKeyEnv: null,
  path: "/generate_stream",
  health: ["/health"],
  body: (request) => ({
    inputs: promptText(request.messages),
    parameters: {
      max_new_tokens: request.outputLen,
      min_new_tokens: request.outputLen,
      ignore_eos: true,
      do_sample: false,
      temperature: 0,
    },
  }),
  decoder: (state) => lightllmDecoder(state),
});

export function lightllmDecoder(state: StreamState): EventDecoder {
  return (payload, at) => {
    const event = state.json(payload);
    if (event === null || state.failOnServerError(event)) return;
    const token = objectOf(event.token);
    if (token !== null) {
      const outputTokens = numberOf(token.count_output_tokens);
      const promptTokens = numberOf(token.prompt_tokens);
      if (outputTokens !== null) state.outcome.serverOutTokens = outputTokens;
      if (promptTokens !== null) state.outcome.serverPromptTokens = promptTokens;
      state.tokens(at, 1, token.special === true ? "" : (stringOf(token.text) ?? ""));
    }
    if (event.finished === true) {
      state.outcome.finishReason = stringOf(event.finish_reason);
      state.finished = true;
    }
  };
}
