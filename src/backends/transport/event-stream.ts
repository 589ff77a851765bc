/** Splits a response body into event payloads (SseParser, JsonLineParser). */
export interface EventParser {
  push(chunk: string): string[];
  /** At the end of the stream: an event left without its terminator. */
  flush(): string[];
  /** As push, each payload to `emit` as it completes (no array per read). */
  feed?(chunk: string, emit: (payload: string) => void): void;
}
