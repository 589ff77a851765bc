/**
 * Splits a Server-Sent-Events byte stream into `data` payloads. Under load several events come in
 * one read and one event can straddle two reads, so text is buffered until a blank line ends it.
 */
export class SseParser {
  private buffer = "";
  /** A chunk ended in "\r": it may be the first half of a CRLF. */
  private pendingCr = false;

  /** Feeds one decoded chunk; returns the data payloads of every event it completed. */
  push(chunk: string): string[] {
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
    this.buffer += chunk;
    const payloads: string[] = [];
    let boundary: number;
    while ((boundary = this.buffer.indexOf("\n\n")) !== -1) {
      const block = this.buffer.slice(0, boundary);
      this.buffer = this.buffer.slice(boundary + 2);
      const data = SseParser.dataOf(block);
      if (data !== null) payloads.push(data);
    }
    return payloads;
  }

  /** At the end of the stream: an event some servers leave without its closing blank line. */
  flush(): string[] {
    this.pendingCr = false;
    const rest = this.buffer.trim();
    this.buffer = "";
    if (rest === "") return [];
    const data = SseParser.dataOf(rest);
    return data === null ? [] : [data];
  }

  /** An event block's data: its `data:` lines joined by newlines; null when it has none. */
  static dataOf(block: string): string | null {
    return dataOf(block);
  }
}

function dataOf(block: string): string | null {
  let data: string | null = null;
  for (const line of block.split("\n")) {
    if (!line.startsWith("data:")) continue; // comments (":ping"), event:, id:, retry:
    const value = line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5);
    data = data === null ? value : `${data}\n${value}`;
  }
  return data;
}
