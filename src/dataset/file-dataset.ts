import { closeSync, existsSync, openSync, readSync, statSync } from "node:fs";
import { UsageError } from "../common/usage-error.ts";
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
 * silently skipped. Returns each entry's line number (blank lines are not entries). Reads the
 * file in large chunks, cut at line ends (a newline byte never splits a UTF-8 character).
 */
function checkJsonLines(path: string, fd: number, index: EntryIndex): Uint32Array {
  const lines = new Uint32Array(index.count);
  const chunk = Buffer.allocUnsafe(CHECK_CHUNK_BYTES);
  let carry: Buffer = Buffer.alloc(0);
  let offset = 0;
  let line = 0;
  let entry = 0;
  const checkLine = (text: string) => {
    line++;
    if (text.trim() === "") return;
    if (entry < lines.length) lines[entry] = line;
    entry++;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new UsageError(`dataset ${path}:${line}: not valid JSON (${(error as Error).message})`);
    }
    const conversation = conversationOf(value);
    if (typeof conversation === "string") throw new UsageError(`dataset ${path}:${line}: ${conversation}`);
  };
  for (;;) {
    const length = readSync(fd, chunk, 0, chunk.length, offset);
    offset += length;
    const data = carry.length > 0 ? Buffer.concat([carry, chunk.subarray(0, length)]) : chunk.subarray(0, length);
    if (length === 0) {
      if (data.length > 0) checkLine(data.toString("utf8"));
      return lines;
    }
    const lastNewline = data.lastIndexOf(0x0a);
    if (lastNewline === -1) {
      carry = Buffer.from(data);
      continue;
    }
    const text = data.toString("utf8", 0, lastNewline);
    carry = Buffer.from(data.subarray(lastNewline + 1));
    for (const part of text.split("\n")) checkLine(part);
  }
}

const CHECK_CHUNK_BYTES = 4 * 1024 * 1024;
