import { approximateTokens, integerField, jsonResponse, outputLength, readJsonBody, sseEvent, streamGeneration, tokenId, type MockContext, type StreamFormat } from "../generation.ts";
import type { HttpMockProtocol } from "./protocol.ts";

/** What the TGI-style protocols (tgi, amsv2) read from a request. */
export interface TgiRequest {
  inputs: string;
  maxTokens: number;
  details: boolean;
}

export function tgiError(message: string, status = 422): Response {
  return jsonResponse({ error: message, error_type: status === 401 ? "authentication" : "validation" }, status);
}

export function tgiStreamError(message: string): string {
  return sseEvent({ error: message, error_type: "generation" }, false);
}

/**
 * A TGI-style body, or TGI's 422 answer. Like TGI, it refuses temperature 0 and top_p 1 when they
 * are sent: the client must send near-greedy values instead.
 */
export async function readTgiRequest(request: Request): Promise<TgiRequest | Response> {
  const body = await readJsonBody(request);
  if (body === null) return tgiError("Failed to deserialize the JSON body", 400);
  if (typeof body.inputs !== "string") return tgiError("inputs must be a string");
  const parameters = (body.parameters ?? {}) as Record<string, unknown>;
  const maxTokens = integerField(parameters.max_new_tokens, 100, 1);
  if (maxTokens === null) return tgiError("`max_new_tokens` must be strictly positive");
  if (parameters.temperature !== undefined && !((parameters.temperature as number) > 0)) return tgiError("`temperature` must be strictly positive");
  if (parameters.top_p !== undefined && !((parameters.top_p as number) > 0 && (parameters.top_p as number) < 1)) {
    return tgiError("`top_p` must be > 0.0 and < 1.0");
  }
  return { inputs: body.inputs, maxTokens, details: parameters.details === true };
}

/** The final event's details: TGI sends them only when the request asked for them. */
export function tgiDetails(request: TgiRequest, promptTokens: number, outputTokens: number): Record<string, unknown> {
  return { finish_reason: outputTokens === request.maxTokens ? "length" : "eos_token", generated_tokens: outputTokens, seed: null, input_length: promptTokens };
}

/** TGI's /generate_stream: one token per event; the last one has the whole text and (if asked) the details. TGI has no ignore-eos. */
async function generateStream(request: Request, context: MockContext): Promise<Response> {
  const tgi = await readTgiRequest(request);
  if (tgi instanceof Response) return tgi;
  const promptTokens = approximateTokens(tgi.inputs);
  const outputTokens = outputLength(context, tgi.inputs, tgi.maxTokens, 0, false);
  let answer = "";
  const format: StreamFormat = {
    tokens(texts, first, finished) {
      return texts
        .map((text, i) => {
          answer += text;
          const last = finished && i === texts.length - 1;
          return sseEvent(
            {
              index: first + i + 1,
              token: { id: tokenId(first + i), text, logprob: -0.1, special: false },
              generated_text: last ? answer : null,
              details: last && tgi.details ? tgiDetails(tgi, promptTokens, outputTokens) : null,
            },
            false,
          );
        })
        .join("");
    },
    end: () => "",
    error: tgiStreamError,
  };
  return streamGeneration(context, request, tgi.inputs, outputTokens, format);
}

export const tgiProtocol: HttpMockProtocol = {
  kind: "http",
  name: "tgi",
  routes: {
    "POST /generate_stream": generateStream,
    "GET /health": () => new Response(null, { status: 200 }),
    "GET /info": (_request, context) => jsonResponse({ model_id: context.model, version: "llmbench-mock" }),
  },
  error: tgiError,
};
