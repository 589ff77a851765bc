import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";

const TAIL_BYTES = 64 * 1024;

/** The last `lines` lines of a log file (its last 64 KB at most), for error messages. */
export function tailLines(path: string, lines = 20): string[] {
  if (!existsSync(path)) return [];
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString("utf8").replace(/\s+$/, "");
    if (text === "") return [];
    const all = text.split(/\r?\n/);
    if (length < size) all.shift(); // the first line may be cut
    return all.slice(-lines);
  } finally {
    closeSync(fd);
  }
}

/** "last lines of <path>:" followed by the lines, indented; or a note that the log is empty. */
export function formatLogTail(path: string, lines = 20): string {
  const tail = tailLines(path, lines);
  if (tail.length === 0) return `the server log ${path} is empty`;
  return `${tail.length === 1 ? "last line" : `last ${tail.length} lines`} of ${path}:\n${tail.map((line) => `  | ${line}`).join("\n")}`;
}
