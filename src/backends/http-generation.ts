import type { BackendOptions, GenerationOutcome, GenerationRequest, RawEventListener, TokenListener } from "./backend.ts";
import { StreamState, type EventDecoder } from "./stream-state.ts";
import { postEventStream, type EventParser } from "./transport/event-stream.ts";
import { SseParser } from "./transport/sse.ts";

/** What an HTTP streaming backend contributes: where to POST, what, and how to read the events. */
export interface HttpGeneration {
  endpoint: URL;
  headers: Record<string, string>;
  body: unknown;
  insecure: boolean;
  /** Splits the body into events; SSE unless the protocol's framing is uncertain. */
  parser?: EventParser;
  decoder(state: StreamState): EventDecoder;
  /** The protocol has no end marker: a stream that closes cleanly is complete. */
  closeIsComplete?: boolean;
}

/** Sends one request and measures its stream the same way for every HTTP protocol. */
export async function generateOverHttp(
  generation: HttpGeneration,
  onTokens: TokenListener,
  signal: AbortSignal,
  onRawEvent?: RawEventListener,
): Promise<GenerationOutcome> {
  const state = new StreamState(onTokens);
  const decode = generation.decoder(state);
  const failure = await postEventStream(generation.endpoint, {
    headers: generation.headers,
    body: JSON.stringify(generation.body),
    insecure: generation.insecure,
    signal,
    parser: generation.parser ?? new SseParser(),
    onRawEvent,
    onPayload(payload, at) {
      if (!state.over) decode(payload, at);
    },
  });
  if (failure !== null) state.fail(failure);
  return state.finish(generation.closeIsComplete);
}

/** The base URL without trailing slashes. */
export function baseOf(options: BackendOptions): string {
  return options.baseUrl.replace(/\/+$/, "");
}

/** JSON request headers, with the Bearer key when one is configured. */
export function requestHeaders(options: BackendOptions, accept = "text/event-stream"): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", accept };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

/** For servers without a health endpoint: ready when a one-token request succeeds. */
export async function checkByOneToken(
  generate: (request: GenerationRequest, onTokens: TokenListener, signal: AbortSignal) => Promise<GenerationOutcome>,
  signal: AbortSignal,
): Promise<void> {
  const outcome = await generate({ id: 0, messages: [{ role: "user", content: "Hello" }], outputLen: 1 }, () => {}, signal);
  if (outcome.error !== null) throw new Error(`a one-token request failed: ${outcome.error}`);
}
