/** Splits a response body into event payloads (SseParser, JsonLineParser). */
export interface EventParser {
  push(chunk: string): string[];
  /** At the end of the stream: an event left without its terminator. */
  flush(): string[];
  /** As push, each payload to `sink` as it completes (no array per read). */
  feed?(chunk: string, sink: EventSink): void;
}

/** Takes each payload as the parser completes it: an object's method, not a closure per request. */
export interface EventSink {
  event(payload: string): void;
}
