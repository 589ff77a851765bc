import type { EventSink } from "./event-stream.ts";
import { SseParser } from "./sse.ts";

/**
 * The per-token SSE splitter: the same events as SseParser (the reference, kept for tests), but
 * handed to a callback as they complete, without an array per read, and a one-line `data: ` event
 * cut out of the buffer directly. Anything else (several lines, comments, other fields) goes
 * through the reference's own rules.
 */
export class FastSseParser {
  private buffer = "";
  private pendingCr = false;

  feed(chunk: string, sink: EventSink): void {
    if (this.pendingCr) {
      chunk = `\r${chunk}`;
      this.pendingCr = false;
    }
    if (chunk.includes("\r")) {
      if (chunk.endsWith("\r")) {
        this.pendingCr = true;
        chunk = chunk.slice(0, -1);
      }
      chunk = chunk.replace(/\r\n?/g, "\n");
    }
    const buffer = this.buffer.length === 0 ? chunk : this.buffer + chunk;
    let start = 0;
    let newline: number;
    while ((newline = buffer.indexOf("\n", start)) !== -1) {
      // the first line ends the event (a blank line follows): one `data: ` line is the payload
      if (buffer.charCodeAt(newline + 1) === 10 && buffer.startsWith("data: ", start)) {
        sink.event(buffer.slice(start + 6, newline));
        start = newline + 2;
        continue;
      }
      const boundary = buffer.indexOf("\n\n", newline);
      if (boundary === -1) break;
      const data = SseParser.dataOf(buffer.slice(start, boundary));
      if (data !== null) sink.event(data);
      start = boundary + 2;
    }
    this.buffer = start === 0 ? buffer : buffer.slice(start);
  }

  push(chunk: string): string[] {
    const payloads: string[] = [];
    this.feed(chunk, { event: (payload) => payloads.push(payload) });
    return payloads;
  }

  flush(): string[] {
    this.pendingCr = false;
    const rest = this.buffer.trim();
    this.buffer = "";
    if (rest === "") return [];
    const data = SseParser.dataOf(rest);
    return data === null ? [] : [data];
  }
}
