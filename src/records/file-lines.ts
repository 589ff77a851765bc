import { closeSync, openSync, readSync } from "node:fs";

const CHUNK_BYTES = 1 << 20;

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
    for (;;) {
      const read = readSync(fd, buffer, 0, CHUNK_BYTES, null);
      const text = read === 0 ? decoder.decode() : decoder.decode(buffer.subarray(0, read), { stream: true });
      rest = rest.length === 0 ? text : rest + text;
      let from = 0;
      for (let at = rest.indexOf("\n"); at !== -1; at = rest.indexOf("\n", from)) {
        onLine(rest.slice(from, at > from && rest.charCodeAt(at - 1) === 13 ? at - 1 : at));
        from = at + 1;
      }
      rest = rest.slice(from);
      if (read === 0) break;
    }
    if (rest !== "") onLine(rest.endsWith("\r") ? rest.slice(0, -1) : rest);
  } finally {
    closeSync(fd);
  }
}
