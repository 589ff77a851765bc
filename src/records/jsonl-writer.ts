import { closeSync, openSync, writeSync } from "node:fs";
import { scrub } from "./scrub.ts";

/**
 * Appends one JSON line per record as each request finishes, straight to the file, so that a
 * crash or Ctrl-C loses nothing already measured.
 */
export class JsonlWriter {
  private fd: number | null;

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
    writeSync(this.fd, scrub(json) + "\n");
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
