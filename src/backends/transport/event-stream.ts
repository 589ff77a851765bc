import type { RawEventListener, SendState } from "../backend.ts";
import { describeNetworkError, streamHttp } from "./http.ts";

/** Splits a response body into event payloads (SseParser, JsonLineParser). */
export interface EventParser {
  push(chunk: string): string[];
  /** At the end of the stream: an event left without its terminator. */
  flush(): string[];
  /** As push, each payload to `emit` as it completes (no array per read). */
  feed?(chunk: string, emit: (payload: string) => void): void;
}

export interface EventStreamRequest {
  headers: Record<string, string>;
  body: string;
  insecure: boolean;
  signal: AbortSignal;
  parser: EventParser;
  /** Every payload with the time its bytes arrived (performance.now()). */
  onPayload(payload: string, at: number): void;
  onRawEvent?: RawEventListener;
  send?: SendState;
}

/**
 * POSTs a request and feeds the streamed answer's events to `onPayload`. Resolves with null when
 * the stream ran to its end, or with what went wrong in the transport (a network error, an HTTP
 * error status with the start of its body). Rejects only when the signal aborts the request.
 */
export interface EventStreamResult {
  /** Null when the stream ran to its end; else what went wrong in the transport. */
  failure: string | null;
  /** The server's `x-request-id` response header, when it sent one. */
  requestId: string | null;
}

export async function postEventStream(url: URL, request: EventStreamRequest): Promise<EventStreamResult> {
  const deliver = (payload: string, at: number) => {
    request.onRawEvent?.(at, payload);
    request.onPayload(payload, at);
  };
  const parser = request.parser;
  let at = 0;
  const emit = request.onRawEvent ? (payload: string) => deliver(payload, at) : (payload: string) => request.onPayload(payload, at);
  const onText = parser.feed
    ? (text: string, readAt: number) => {
        at = readAt;
        parser.feed!(text, emit);
      }
    : (text: string, readAt: number) => {
        for (const payload of parser.push(text)) deliver(payload, readAt);
      };
  let head;
  try {
    head = await streamHttp(
      url,
      { method: "POST", headers: request.headers, body: request.body, signal: request.signal, insecure: request.insecure, expectStream: true, send: request.send },
      onText,
    );
  } catch (error) {
    if (request.signal.aborted) throw error;
    return { failure: describeNetworkError(error), requestId: null };
  }
  const requestId = head.requestId;
  if (head.errorBody !== null) return { failure: `HTTP ${head.status}: ${head.errorBody.trim().slice(0, 300)}`, requestId };
  if (head.notStream !== null) {
    return { failure: `HTTP ${head.status} answered with ${head.notStream.contentType}, not an event stream: ${head.notStream.body.trim().slice(0, 300)}`, requestId };
  }
  const endAt = performance.now();
  for (const payload of parser.flush()) deliver(payload, endAt);
  return { failure: null, requestId };
}
