/** The fixed client-side tokenizer that counts input tokens, so runs against different servers compare. */

export const TOKENIZER_NAMES = ["cl100k_base", "o200k_base"] as const;
export type TokenizerName = (typeof TOKENIZER_NAMES)[number];

export interface Tokenizer {
  name: string;
  count(text: string): number;
}

type CountTokens = (text: string, options: { disallowedSpecial: Set<string> }) => number;

const loaded = new Map<TokenizerName, Tokenizer>();

/** Importing an encoding takes most of a second, so it happens once, and only when asked for. */
export async function loadTokenizer(name: TokenizerName): Promise<Tokenizer> {
  const cached = loaded.get(name);
  if (cached) return cached;
  const module =
    name === "o200k_base"
      ? await import("gpt-tokenizer/encoding/o200k_base")
      : await import("gpt-tokenizer/encoding/cl100k_base");
  const countTokens = module.countTokens as unknown as CountTokens;
  // Prompts are user text: a literal "<|endoftext|>" in them is text to count, not an error.
  const options = { disallowedSpecial: new Set<string>() };
  const tokenizer: Tokenizer = { name, count: (text) => countTokens(text, options) };
  loaded.set(name, tokenizer);
  return tokenizer;
}
