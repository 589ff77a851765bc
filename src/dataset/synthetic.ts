import type { Conversation, DatasetSource } from "./conversation.ts";
import { seededRandom } from "./prng.ts";
import type { Tokenizer } from "./tokenizer.ts";

export interface SyntheticSpec {
  inputLen: number;
  inputLenStd: number;
  outputLen: number;
  outputLenStd: number;
  /** Tokens of a prefix shared by every prompt, before each prompt's own inputLen tokens. */
  prefixLen: number;
  seed: number;
  /** vLLM's --random-range-ratio r: lengths uniform in [⌊L(1 − r)⌋, ⌈L(1 + r)⌉] instead of normal; 0 or absent: off. */
  rangeRatio?: number;
}

// Common words that are one token each (with their leading space) in the GPT encodings; the
// builder still checks every prompt against the tokenizer and adjusts until the count is exact.
const WORDS = (
  "the of and to in is that for it as with was on be by this are from at or an but not have which one all " +
  "their has more can will about there when time would been each other people them only some into new than " +
  "its then very out also first any work may after such these two over where most back way year still made"
).split(" ");

/** A draw from a normal distribution, rounded and at least 1; uniform over mean × (1 ± rangeRatio) when that is given. */
function drawLength(random: () => number, mean: number, std: number, rangeRatio = 0): number {
  if (rangeRatio > 0) {
    const low = Math.max(1, Math.floor(mean * (1 - rangeRatio)));
    const high = Math.max(low, Math.ceil(mean * (1 + rangeRatio)));
    return low + Math.floor(random() * (high - low + 1));
  }
  if (std <= 0) return Math.max(1, Math.round(mean));
  const u = 1 - random();
  const v = random();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(1, Math.round(mean + std * normal));
}

/** Text that the tokenizer counts as exactly `tokens` tokens after `prefix` (prefix included in the count). */
export function textOfExactLength(tokenizer: Tokenizer, prefix: string, tokens: number, random: () => number): string {
  const target = (prefix === "" ? 0 : tokenizer.count(prefix)) + tokens;
  const words: string[] = [];
  const add = (n: number) => {
    for (let i = 0; i < n; i++) words.push(WORDS[Math.floor(random() * WORDS.length)]!);
  };
  add(tokens);
  for (let attempt = 0; attempt < 64; attempt++) {
    const text = prefix + (prefix === "" ? words.join(" ") : ` ${words.join(" ")}`);
    const count = tokenizer.count(text);
    if (count === target) return text;
    if (count < target) add(target - count);
    else words.length = Math.max(1, words.length - (count - target));
  }
  throw new Error(`could not build a prompt of exactly ${tokens} tokens with tokenizer ${tokenizer.name}`);
}

/** Prompts of drawn lengths, exactly as long as drawn by the client tokenizer; entry i depends only on (seed, i). */
export function syntheticDataset(spec: SyntheticSpec, tokenizer: Tokenizer): DatasetSource {
  const prefix = spec.prefixLen > 0 ? textOfExactLength(tokenizer, "", spec.prefixLen, seededRandom(spec.seed, 0x70726566)) : "";
  return {
    name: "synthetic",
    size: 1_000_000,
    conversation(index): Conversation {
      const random = seededRandom(spec.seed, index, 0x73796e);
      const inputLen = drawLength(random, spec.inputLen, spec.inputLenStd, spec.rangeRatio);
      const outputLen = drawLength(random, spec.outputLen, spec.outputLenStd, spec.rangeRatio);
      return {
        userTurns: [textOfExactLength(tokenizer, prefix, inputLen, random)],
        answers: [null],
        outputLens: [outputLen],
      };
    },
  };
}
