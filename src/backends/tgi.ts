import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { numberOf, objectOf, stringOf, type EventDecoder, type StreamState } from "./stream-state.ts";

/**
 * Hugging Face TGI: POST /generate_stream, one token per event; the last event carries the whole
 * `generated_text` and (asked for with `details: true`) `details.generated_tokens`. TGI has no
 * ignore-eos, so answers may come back shorter than asked. It rejects temperature 0 and top_p 1,
 * hence the near-greedy values.
 */
export const tgiBackend = httpBackend({
  name: "tgi",
  defaultBaseUrl: "http://127.0.0.1:8080",
  defaultApiKeyEnv: null,
  path: "/generate_stream",
  health: ["/health"],
  body: (request) => ({
    inputs: promptText(request.messages),
    parameters: { max_new_tokens: request.outputLen, do_sample: true, temperature: 0.01, top_p: 0.99, best_of: 1, details: true },
  }),
  decoder: (state) => tgiDecoder(state),
});

/** TGI's stream, also amsv2's when it uses TGI's shape: `token` per event, `generated_text` and `details` at the end. */
export function tgiDecoder(state: StreamState): EventDecoder {
  return (payload, at) => {
    const event = state.json(payload);
    if (event === null || state.failOnServerError(event)) return;
    const token = objectOf(event.token);
    if (token !== null) state.tokens(at, 1, token.special === true ? "" : (stringOf(token.text) ?? ""));
    readDetails(state, event);
    if (typeof event.generated_text === "string") state.finished = true;
  };
}

/** `details: {finish_reason, generated_tokens, input_length}` of a final TGI-style event. */
export function readDetails(state: StreamState, event: Record<string, unknown>): void {
  const details = objectOf(event.details);
  if (details === null) return;
  const generated = numberOf(details.generated_tokens);
  const input = numberOf(details.input_length);
  if (generated !== null) state.outcome.serverOutTokens = generated;
  if (input !== null) state.outcome.serverPromptTokens = input;
  const finishReason = stringOf(details.finish_reason);
  if (finishReason !== null) state.outcome.finishReason = finishReason;
}
