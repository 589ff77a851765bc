import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { objectOf, stringOf, type EventDecoder, type StreamState } from "./stream-state.ts";
import { readDetails } from "./tgi.ts";
import { JsonLineParser } from "./transport/json-lines.ts";

/**
 * amsv2: a hosted TGI-style endpoint behind a Bearer key, POST {base}/text-generation/generate_stream.
 * Its exact stream format is not public, so it is read leniently: SSE or bare JSON lines; each
 * event with a `token` (TGI's shape) or a `generated_text` piece is one token; a final event that
 * repeats the whole answer adds no token; `details.generated_tokens` is the server's count. It has
 * no health endpoint that is known, so readiness is a one-token request (which also checks the key).
 */
export const amsv2Backend = httpBackend({
  name: "amsv2",
  defaultBaseUrl: null,
  defaultApiKeyEnv: "AMSV2_API_KEY",
  path: "/text-generation/generate_stream",
  health: "one-token",
  body: (request) => ({
    inputs: promptText(request.messages),
    parameters: {
      max_new_tokens: request.outputLen,
      do_sample: true,
      temperature: 0.8,
      top_p: 0.7,
      top_k: 50,
      repetition_penalty: 1.1,
      details: true,
    },
  }),
  parser: () => new JsonLineParser(),
  decoder: (state) => amsv2Decoder(state),
  closeIsComplete: true,
});

export function amsv2Decoder(state: StreamState): EventDecoder {
  return (payload, at) => {
    const event = state.json(payload);
    if (event === null || state.failOnServerError(event)) return;
    const token = objectOf(event.token);
    const generated = stringOf(event.generated_text);
    const final = objectOf(event.details) !== null;
    if (token !== null) {
      state.tokens(at, 1, token.special === true ? "" : (stringOf(token.text) ?? ""));
    } else if (generated !== null) {
      const soFar = state.outcome.text;
      const repeatsAnswer = final && soFar.length > 0 && generated.startsWith(soFar);
      const piece = repeatsAnswer ? generated.slice(soFar.length) : generated;
      if (!repeatsAnswer || piece.length > 0) state.tokens(at, 1, piece);
    }
    readDetails(state, event);
    if (final) state.finished = true;
  };
}
