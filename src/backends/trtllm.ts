import { promptText } from "./backend.ts";
import { httpBackend } from "./http-generation.ts";
import { stringOf, type EventDecoder, type StreamState } from "./stream-state.ts";
import { JsonLineParser } from "./transport/json-lines.ts";

/**
 * TensorRT-LLM behind Triton: POST /v2/models/ensemble/generate_stream. `end_id: -1` matches no
 * token, so generation runs to max_tokens. Each event with a `text_output` is one token (its text
 * may be empty while a character is incomplete). Triton marks no end of answer: a stream that
 * closes cleanly is complete. The framing is parsed leniently (SSE or bare JSON lines).
 */
export const trtllmBackend = httpBackend({
  name: "trtllm",
  defaultBaseUrl: "http://127.0.0.1:8000",
  defaultApiKeyEnv: null,
  path: "/v2/models/ensemble/generate_stream",
  health: ["/v2/health/ready"],
  body: (request) => ({
    text_input: promptText(request.messages),
    max_tokens: request.outputLen,
    bad_words: "",
    stop_words: "",
    end_id: -1,
    stream: true,
    temperature: 0,
  }),
  parser: () => new JsonLineParser(),
  decoder: (state) => trtllmDecoder(state),
  closeIsComplete: true,
});

export function trtllmDecoder(state: StreamState): EventDecoder {
  return (payload, at) => {
    const event = state.json(payload);
    if (event === null || state.failOnServerError(event)) return;
    const text = stringOf(event.text_output);
    if (text !== null) state.tokens(at, 1, text);
    const finishReason = stringOf(event.finish_reason);
    if (finishReason !== null) state.outcome.finishReason = finishReason;
  };
}
