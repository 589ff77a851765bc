import type { Conversation } from "./sharegpt.ts";
import type { Tokenizer } from "./tokenizer.ts";
import { seededRandom } from "./prng.ts";

/** A prompt ready to send: its text, its client-side token count and how many tokens to ask for. */
export interface Prompt {
  index: number;
  text: string;
  inTokens: number;
  outputLen: number;
}

/** The dataset's conversations, tokenized lazily: only entries that are actually sampled cost anything. */
export class PromptPool {
  private readonly cache = new Map<number, Prompt>();

  constructor(
    private readonly conversations: readonly Conversation[],
    private readonly tokenizer: Tokenizer,
    /** A fixed output length for every request; otherwise the reference answer's token count. */
    private readonly fixedOutputLen: number | undefined,
  ) {}

  get size(): number {
    return this.conversations.length;
  }

  get(index: number): Prompt {
    let prompt = this.cache.get(index);
    if (!prompt) {
      const conversation = this.conversations[index]!;
      prompt = {
        index,
        text: conversation.prompt,
        inTokens: this.tokenizer.count(conversation.prompt),
        outputLen: this.fixedOutputLen ?? Math.max(1, this.tokenizer.count(conversation.referenceAnswer)),
      };
      this.cache.set(index, prompt);
    }
    return prompt;
  }

  /** Tokenizes the first `perUser` prompts of users 0..users-1 ahead of a run. */
  warm(seed: number, users: number, perUser: number): void {
    for (let user = 0; user < users && this.cache.size < this.conversations.length; user++) {
      const next = this.userSequence(seed, user);
      for (let i = 0; i < perUser; i++) next();
    }
  }

  /** User k's prompts: a sequence that depends only on (seed, k), whatever the number of users. */
  userSequence(seed: number, user: number): () => Prompt {
    const random = seededRandom(seed, user);
    return () => this.get(Math.floor(random() * this.conversations.length));
  }
}
