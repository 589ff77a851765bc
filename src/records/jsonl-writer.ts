import { closeSync, openSync, writeSync } from "node:fs";
import type { MeasuredRecord } from "./record.ts";
import { RecordLineEncoder } from "./record-line.ts";
import { scrub } from "./scrub.ts";

/**
 * Appends one JSON line per record as each request finishes, straight to the file, so that a
 * crash or Ctrl-C loses nothing already measured.
 */
export class JsonlWriter {
  private fd: number | null;
  /** The line's UTF-8 bytes, encoded into one buffer kept for every line (no buffer per record when thousands finish at once). */
  private readonly lines = new RecordLineEncoder();

  constructor(readonly path: string, options: { truncate?: boolean } = {}) {
    this.fd = openSync(path, options.truncate ? "w" : "a");
  }

  write(value: unknown): void {
    this.writeJson(JSON.stringify(value));
  }

  /** A measured record's line (record-line.ts: its events' digits straight into bytes), its text scrubbed. */
  writeRecord(record: MeasuredRecord, tags?: Record<string, unknown>): void {
    this.writeBytes(this.lines.encodeLine(record, tags, scrub));
  }

  /** One value already as JSON. */
  writeJson(json: string): void {
    // An error body may echo the API key: the line is scrubbed as a whole (per request, not per token).
    this.writeBytes(this.lines.encodeJsonLine(scrub(json)));
  }

  private writeBytes(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path} is already closed`);
    for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
