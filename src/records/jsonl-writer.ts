import { closeSync, openSync, writeSync } from "node:fs";
import { scrub } from "./scrub.ts";

const NEWLINE = 0x0a;
const encoder = new TextEncoder();

/**
 * Appends one JSON line per record as each request finishes, straight to the file, so that a
 * crash or Ctrl-C loses nothing already measured.
 */
export class JsonlWriter {
  private fd: number | null;
  /** The line's UTF-8 bytes, encoded into one buffer kept for every line (no buffer per record when thousands finish at once). */
  private bytes = Buffer.allocUnsafe(64 * 1024);

  constructor(readonly path: string, options: { truncate?: boolean } = {}) {
    this.fd = openSync(path, options.truncate ? "w" : "a");
  }

  write(value: unknown): void {
    this.writeJson(JSON.stringify(value));
  }

  /** One value already as JSON (a record's line, records/record.ts). */
  writeJson(json: string): void {
    if (this.fd === null) throw new Error(`${this.path} is already closed`);
    // An error body may echo the API key: the line is scrubbed as a whole (per request, not per token).
    const line = scrub(json);
    const most = line.length * 3 + 1; // UTF-8: at most 3 bytes per UTF-16 unit
    if (most > this.bytes.length) this.bytes = Buffer.allocUnsafe(Math.max(most, this.bytes.length * 2));
    const { written } = encoder.encodeInto(line, this.bytes);
    this.bytes[written] = NEWLINE;
    for (let at = 0; at < written + 1; ) at += writeSync(this.fd, this.bytes, at, written + 1 - at);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
