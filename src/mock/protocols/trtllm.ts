import { integerField, jsonResponse, outputLength, readJsonBody, sseEvent, streamGeneration, type MockContext } from "../generation.ts";
import type { HttpMockProtocol } from "./protocol.ts";

function tritonError(message: string, status = 400): Response {
  return jsonResponse({ error: message }, status);
}

/** Triton's generate_stream for the TensorRT-LLM ensemble: one event per token, no end marker; `end_id: -1` never matches, so it runs to max_tokens. */
async function generateStream(request: Request, context: MockContext): Promise<Response> {
  const body = await readJsonBody(request);
  if (body === null) return tritonError("failed to parse the request JSON buffer");
  if (typeof body.text_input !== "string") return tritonError("expected 'text_input' to be a string");
  const maxTokens = integerField(body.max_tokens, 16, 1);
  if (maxTokens === null) return tritonError("expected 'max_tokens' to be a positive integer");
  if (body.stream !== true) return tritonError("llmbench mock only streams: set stream to true");

  const outputTokens = outputLength(context, body.text_input, maxTokens, 0, body.end_id === -1);
  return streamGeneration(context, request, body.text_input, outputTokens, {
    tokens(texts) {
      return texts
        .map((text) =>
          sseEvent({
            context_logits: 0.0, cum_log_probs: 0.0, generation_logits: 0.0, model_name: "ensemble", model_version: "1",
            output_log_probs: [0.0], sequence_end: false, sequence_id: 0, sequence_start: false, text_output: text,
          }),
        )
        .join("");
    },
    end: () => "",
    error: (message) => sseEvent({ error: message }),
  });
}

export const trtllmProtocol: HttpMockProtocol = {
  kind: "http",
  name: "trtllm",
  routes: {
    "POST /v2/models/ensemble/generate_stream": generateStream,
    "GET /v2/health/ready": () => new Response(null, { status: 200 }),
  },
  error: tritonError,
};
