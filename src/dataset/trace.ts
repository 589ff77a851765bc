/**
 * Request traces for `--trace FILE`: JSONL, one request a line, sent at its `timestamp` (ms from
 * the start). Each line gives a `prompt`, or an `input_length` for a synthetic prompt of exactly
 * that many client-tokenizer tokens; `output_length` (or --output-len) sizes the answer; an
 * optional `session_id` makes lines turns of one conversation. The Mooncake format
 * (`timestamp`, `input_length`, `output_length`, `hash_ids`) is read as it is: each hash id
 * stands for a block of MOONCAKE_BLOCK_TOKENS tokens, so requests that share leading hash ids share
 * their prompts' leading blocks, word for word. Other fields are ignored.
 */
import { readFileSync } from "node:fs";
import { UsageError } from "../common/usage-error.ts";
import { seededRandom } from "./prng.ts";
import { textOfExactLength } from "./synthetic.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** Tokens per hash id in Mooncake traces. */
export const MOONCAKE_BLOCK_TOKENS = 512;

/** One line of a trace, checked. */
export interface TraceLine {
  /** 1-based line number in the file. */
  line: number;
  timestampMs: number;
  prompt: string | null;
  inputLength: number | null;
  outputLength: number | null;
  hashIds: number[] | null;
  session: string | null;
}

/** A trace request ready to send, in send order. */
export interface TraceRequest {
  line: number;
  /** When it is sent, in ms after the start (the timestamp divided by the speed). */
  plannedMs: number;
  text: string;
  outputLen: number;
  /** Its conversation (session id, or "line N" for a request on its own) and its turn in it. */
  conversation: string;
  turn: number;
}

export interface LoadedTrace {
  path: string;
  requests: TraceRequest[];
}

export interface TraceOptions {
  /** 2 replays twice as fast: every offset divided by the speed. */
  speed: number;
  /** For lines without output_length. */
  outputLen: number | undefined;
  seed: number;
}

/** Parses a trace's text; every problem names `path:line`. */
export function parseTrace(text: string, path: string): TraceLine[] {
  const lines: TraceLine[] = [];
  const rows = text.split("\n");
  for (let index = 0; index < rows.length; index++) {
    const row = rows[index]!.trim();
    if (row === "") continue;
    const where = `${path}:${index + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(row);
    } catch (error) {
      throw new UsageError(`${where}: not a JSON object (${(error as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError(`${where}: expected a JSON object such as {"timestamp": 0, "input_length": 512, "output_length": 64}`);
    lines.push(checkLine(value as Record<string, unknown>, where, index + 1));
  }
  if (lines.length === 0) throw new UsageError(`${path}: the trace has no requests`);
  return lines;
}

function checkLine(object: Record<string, unknown>, where: string, line: number): TraceLine {
  const timestampMs = object.timestamp;
  if (typeof timestampMs !== "number" || !Number.isFinite(timestampMs) || timestampMs < 0) {
    throw new UsageError(`${where}: timestamp: expected milliseconds from the start (a number ≥ 0), got ${JSON.stringify(timestampMs)}`);
  }
  const count = (key: string): number | null => {
    const value = object[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) throw new UsageError(`${where}: ${key}: expected a positive integer, got ${JSON.stringify(value)}`);
    return value;
  };
  const prompt = object.prompt ?? null;
  if (prompt !== null && (typeof prompt !== "string" || prompt === "")) throw new UsageError(`${where}: prompt: expected a non-empty string, got ${JSON.stringify(prompt)}`);
  const inputLength = count("input_length");
  if (prompt === null && inputLength === null) throw new UsageError(`${where}: give a prompt or an input_length (tokens of a synthetic prompt)`);
  if (prompt !== null && inputLength !== null) throw new UsageError(`${where}: give a prompt or an input_length, not both`);
  const outputLength = count("output_length");
  let hashIds: number[] | null = null;
  if (object.hash_ids !== undefined) {
    const ids = object.hash_ids;
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "number" || !Number.isInteger(id) || id < 0)) {
      throw new UsageError(`${where}: hash_ids: expected a list of non-negative integers, got ${JSON.stringify(ids)}`);
    }
    if (inputLength === null) throw new UsageError(`${where}: hash_ids describe a synthetic prompt: give input_length with them`);
    hashIds = ids as number[];
  }
  const session = object.session_id ?? null;
  if (session !== null && typeof session !== "string" && typeof session !== "number") throw new UsageError(`${where}: session_id: expected a string or a number, got ${JSON.stringify(session)}`);
  return { line, timestampMs, prompt: prompt as string | null, inputLength, outputLength, hashIds, session: session === null ? null : String(session) };
}

/** Reads a trace file and builds its prompts (tokenizing only here, before any request). */
export function loadTrace(path: string, tokenizer: Tokenizer, options: TraceOptions): LoadedTrace {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`--trace ${path}: ${(error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : (error as Error).message}`);
  }
  return { path, requests: buildTraceRequests(parseTrace(text, path), tokenizer, options, path) };
}

/** The requests of a trace in send order (by timestamp; lines with equal timestamps keep their order). */
export function buildTraceRequests(lines: readonly TraceLine[], tokenizer: Tokenizer, options: TraceOptions, path: string): TraceRequest[] {
  const blocks = new BlockTexts(tokenizer, options.seed);
  const ordered = [...lines].sort((a, b) => a.timestampMs - b.timestampMs || a.line - b.line);
  const turns = new Map<string, number>();
  return ordered.map((line) => {
    const outputLen = line.outputLength ?? options.outputLen;
    if (outputLen === undefined) throw new UsageError(`${path}:${line.line}: no output_length: give it on every line or --output-len`);
    const text = line.prompt ?? blocks.prompt(line.inputLength!, line.hashIds ?? [], line.line);
    const conversation = line.session ?? `line ${line.line}`;
    const turn = turns.get(conversation) ?? 0;
    turns.set(conversation, turn + 1);
    return { line: line.line, plannedMs: line.timestampMs / options.speed, text, outputLen, conversation, turn };
  });
}

/**
 * Prompt text built from blocks of single-token words: the block of a hash id is the same words
 * in every prompt that names it, so shared hash ids are a shared prefix. The prompt is then checked
 * with the tokenizer and trimmed or padded at its end to the exact length.
 */
class BlockTexts {
  private readonly words = new Map<string, string[]>();

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly seed: number,
  ) {}

  prompt(tokens: number, hashIds: readonly number[], line: number): string {
    const words: string[] = [];
    for (let block = 0; words.length < tokens; block++) {
      const id = hashIds[block];
      const blockWords = id === undefined ? this.block(`line ${line}.${block}`, seededRandom(this.seed, line, block, 0x6c696e65)) : this.block(`id ${id}`, seededRandom(this.seed, id, 0x68617368));
      words.push(...blockWords.slice(0, tokens - words.length));
    }
    const text = words.join(" ");
    if (this.tokenizer.count(text) === tokens) return text;
    // Word boundaries merged somewhere: keep the shared start, fix the length at the end.
    return this.exact(text, tokens, line);
  }

  private exact(text: string, tokens: number, line: number): string {
    const words = text.split(" ");
    for (let attempt = 0; attempt < 64; attempt++) {
      const count = this.tokenizer.count(words.join(" "));
      if (count === tokens) return words.join(" ");
      if (count > tokens) words.length = Math.max(1, words.length - (count - tokens));
      else words.push(...textOfExactLength(this.tokenizer, "", tokens - count, seededRandom(this.seed, line, attempt)).split(" "));
    }
    throw new Error(`could not build a prompt of exactly ${tokens} tokens with tokenizer ${this.tokenizer.name}`);
  }

  private block(key: string, random: () => number): string[] {
    let words = this.words.get(key);
    if (!words) {
      words = textOfExactLength(this.tokenizer, "", MOONCAKE_BLOCK_TOKENS, random).split(" ");
      this.words.set(key, words);
    }
    return words;
  }
}
