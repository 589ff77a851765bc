import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { UsageError } from "../common/usage-error.ts";

/**
 * The client-side tokenizer that counts input tokens. The fixed encodings make runs against
 * different servers comparable; a model's own tokenizer.json gives its exact counts.
 */
export const TOKENIZER_NAMES = ["cl100k_base", "o200k_base"] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

export interface Tokenizer {
  name: string;
  count(text: string): number;
}

type CountTokens = (text: string, options: { disallowedSpecial: Set<string> }) => number;

const loaded = new Map<string, Tokenizer>();

/** A built-in encoding name, or a path to a tokenizer.json (or the folder holding one). */
export async function loadTokenizer(nameOrPath: string): Promise<Tokenizer> {
  const cached = loaded.get(nameOrPath);
  if (cached) return cached;
  const tokenizer = (TOKENIZER_NAMES as readonly string[]).includes(nameOrPath)
    ? await loadEncoding(nameOrPath as TokenizerName)
    : await loadTokenizerJson(nameOrPath);
  loaded.set(nameOrPath, tokenizer);
  return tokenizer;
}

/** Importing an encoding takes most of a second, so it happens once, and only when asked for. */
async function loadEncoding(name: TokenizerName): Promise<Tokenizer> {
  const module =
    name === "o200k_base"
      ? await import("gpt-tokenizer/encoding/o200k_base")
      : await import("gpt-tokenizer/encoding/cl100k_base");
  const countTokens = module.countTokens as unknown as CountTokens;
  // Prompts are user text: a literal "<|endoftext|>" in them is text to count, not an error.
  const options = { disallowedSpecial: new Set<string>() };
  return { name, count: (text) => countTokens(text, options) };
}

/**
 * A Hugging Face tokenizer.json, with tokenizer_config.json from the same folder when present.
 * Counts include the special tokens the model adds (BOS), as the server's prompt_tokens do.
 */
async function loadTokenizerJson(path: string): Promise<Tokenizer> {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, "tokenizer.json") : path;
  if (!existsSync(file)) {
    throw new UsageError(`--tokenizer: expected ${TOKENIZER_NAMES.join(" or ")}, or a path to a tokenizer.json; ${file} does not exist`);
  }
  let json: unknown;
  try {
    json = await Bun.file(file).json();
  } catch (error) {
    throw new UsageError(`--tokenizer ${file}: not valid JSON (${(error as Error).message})`);
  }
  const configFile = join(dirname(file), "tokenizer_config.json");
  const config = existsSync(configFile) ? await Bun.file(configFile).json().catch(() => ({})) : {};
  const { Tokenizer } = await import("@huggingface/tokenizers");
  let tokenizer: InstanceType<typeof Tokenizer>;
  try {
    tokenizer = new Tokenizer(json as object, config as object);
    tokenizer.encode("probe");
  } catch (error) {
    throw new UsageError(`--tokenizer ${file}: not a tokenizer this version can load (${(error as Error).message})`);
  }
  return { name: file, count: (text) => tokenizer.encode(text).ids.length };
}
