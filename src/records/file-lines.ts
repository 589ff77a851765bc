import { closeSync, openSync, readSync } from "node:fs";

const CHUNK_BYTES = 1 << 20;

const withoutCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);

/** Hands each complete line of `text` (a trailing "\r" dropped) to `onLine`; returns what follows the last newline. */
export function eachCompleteLine(text: string, onLine: (line: string) => void): string {
  let from = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", from)) {
    onLine(withoutCr(text.slice(from, at)));
    from = at + 1;
  }
  return text.slice(from);
}

/** What is left after the last newline, as a last line; null when nothing is. */
export function lastLine(rest: string): string | null {
  return rest === "" ? null : withoutCr(rest);
}

/**
 * Calls `onLine` with each line of a file (UTF-8, a trailing "\r" dropped), reading it a megabyte
 * at a time: a requests.jsonl of millions of token events is never one string in memory.
 */
export function forEachLine(path: string, onLine: (line: string) => void): void {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_BYTES);
    const decoder = new TextDecoder();
    let rest = "";
    for (let read = readSync(fd, buffer, 0, CHUNK_BYTES, null); read > 0; read = readSync(fd, buffer, 0, CHUNK_BYTES, null)) {
      rest = eachCompleteLine(rest + decoder.decode(buffer.subarray(0, read), { stream: true }), onLine);
    }
    const last = lastLine(rest + decoder.decode());
    if (last !== null) onLine(last);
  } finally {
    closeSync(fd);
  }
}
