import { approximateTokens, integerField, jsonResponse, outputLength, prometheusGauges, readJsonBody, sseEvent, streamGeneration, tokenId, type MockContext } from "../generation.ts";
import type { HttpMockProtocol } from "./protocol.ts";

function lightllmError(message: string, status = 400): Response {
  return jsonResponse({ message }, status);
}

/** LightLLM's /generate_stream: `data:` without a space, one event per token (several at once when they are ready together), no [DONE]. */
async function generateStream(request: Request, context: MockContext): Promise<Response> {
  const body = await readJsonBody(request);
  if (body === null) return lightllmError("request body is not JSON");
  if (typeof body.inputs !== "string") return lightllmError("inputs must be a string");
  const parameters = (body.parameters ?? {}) as Record<string, unknown>;
  const maxTokens = integerField(parameters.max_new_tokens, 16, 1);
  if (maxTokens === null) return lightllmError("max_new_tokens must be a positive integer");
  const minTokens = integerField(parameters.min_new_tokens, 1, 1);
  if (minTokens === null) return lightllmError("min_new_tokens must be a positive integer");

  const promptTokens = approximateTokens(body.inputs);
  const outputTokens = outputLength(context, body.inputs, maxTokens, minTokens, parameters.ignore_eos === true);
  return streamGeneration(context, request, body.inputs, outputTokens, {
    tokens(texts, first, finished) {
      return texts
        .map((text, i) => {
          const last = finished && i === texts.length - 1;
          return sseEvent(
            {
              token: { id: tokenId(first + i), text, logprob: -0.1, special: false, count_output_tokens: first + i + 1, prompt_tokens: promptTokens },
              generated_text: null,
              finished: last,
              finish_reason: last ? (outputTokens === maxTokens ? "length" : "stop") : null,
              details: null,
            },
            false,
          );
        })
        .join("");
    },
    end: () => "",
    error: (message) => sseEvent({ error: message, finished: true }, false),
  });
}

export const lightllmProtocol: HttpMockProtocol = {
  kind: "http",
  name: "lightllm",
  routes: {
    "POST /generate_stream": generateStream,
    "GET /health": () => jsonResponse({ message: "Ok" }),
    "GET /metrics": (_request, context) => {
      const load = context.timing.load();
      return prometheusGauges([
        ["lightllm_batch_current_size", "Requests in the running batch.", load.running],
        ["lightllm_queue_size", "Requests waiting in the queue.", load.waiting],
      ]);
    },
  },
  error: lightllmError,
};
