import { closeSync, existsSync, openSync, statSync } from "node:fs";
import { UsageError } from "../config/usage-error.ts";
import type { Conversation, DatasetSource } from "./conversation.ts";
import { conversationOf } from "./entry-shapes.ts";
import { firstSignificantByte, indexJsonArray, indexJsonLines, JsonFramingError, readRange, type EntryIndex } from "./json-index.ts";

const OPEN_BRACKET = 0x5b;

/**
 * A dataset file: a JSON array (ShareGPT) or JSON Lines, told apart by the first character.
 * The file is indexed once; entries are read and parsed when sampled, and kept once parsed.
 */
export function openDatasetFile(path: string): DatasetSource {
  if (!existsSync(path)) throw new UsageError(`dataset ${path}: file not found (--dataset-path)`);
  if (statSync(path).isDirectory()) throw new UsageError(`dataset ${path}: is a directory, expected a JSON or JSONL file`);
  const fd = openSync(path, "r");
  let index: EntryIndex;
  let format: "JSON array" | "JSON Lines";
  try {
    const first = firstSignificantByte(fd);
    if (first === null) throw new UsageError(`dataset ${path}: the file is empty`);
    format = first === OPEN_BRACKET ? "JSON array" : "JSON Lines";
    index = format === "JSON array" ? indexJsonArray(fd) : indexJsonLines(fd);
  } catch (error) {
    closeSync(fd);
    if (error instanceof JsonFramingError) throw new UsageError(`dataset ${path}: not valid JSON (${error.message})`);
    throw error;
  }
  if (index.count === 0) {
    closeSync(fd);
    throw new UsageError(`dataset ${path}: the ${format === "JSON array" ? "array" : "file"} has no entries`);
  }
  let lines: Uint32Array | null = null;
  if (format === "JSON Lines") {
    try {
      lines = checkJsonLines(path, fd, index);
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  const parsed = new Map<number, Conversation | null>();
  const source: DatasetSource = {
    name: path,
    size: index.count,
    conversation(i) {
      if (parsed.has(i)) return parsed.get(i)!;
      const where = lines === null ? `entry ${i + 1}` : `line ${lines[i]}`;
      let entry: unknown;
      try {
        entry = JSON.parse(readRange(fd, index.range(i)));
      } catch (error) {
        throw new UsageError(`dataset ${path}: not valid JSON at ${where} (${(error as Error).message})`);
      }
      const conversation = conversationOf(entry);
      if (typeof conversation === "string") throw new UsageError(`dataset ${path}: ${where} ${conversation}`);
      parsed.set(i, conversation);
      return conversation;
    },
  };
  // The first entry shows whether the file has a shape llmbench reads, before anything is sent.
  source.conversation(0);
  return source;
}

/**
 * Every line of a JSON Lines file parsed once at load (and dropped): a malformed line, or one of
 * no shape llmbench reads, is an error naming `file:line` before anything is sent, never a line
 * silently skipped. Returns each entry's line number (blank lines are not entries).
 */
function checkJsonLines(path: string, fd: number, index: EntryIndex): Uint32Array {
  const lines = new Uint32Array(index.count);
  let line = 1;
  let previousEnd = 0;
  for (let i = 0; i < index.count; i++) {
    const [start, end] = index.range(i);
    line += countNewlines(readRange(fd, [previousEnd, start]));
    previousEnd = end;
    lines[i] = line;
    let entry: unknown;
    try {
      entry = JSON.parse(readRange(fd, [start, end]));
    } catch (error) {
      throw new UsageError(`dataset ${path}:${line}: not valid JSON (${(error as Error).message})`);
    }
    const conversation = conversationOf(entry);
    if (typeof conversation === "string") throw new UsageError(`dataset ${path}:${line}: ${conversation}`);
  }
  return lines;
}

function countNewlines(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) count++;
  return count;
}
