import { promptText, type ChatMessage } from "../backends/backend.ts";
import { UsageError } from "../common/usage-error.ts";
import type { DatasetSource } from "./conversation.ts";
import { seededRandom } from "./prng.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** One user turn ready to send: its text and how many output tokens to ask for. */
export interface PlannedTurn {
  text: string;
  outputLen: number;
}

/** A sampled conversation, tokenized: what a virtual user will say, turn by turn. */
export interface ConversationPlan {
  /** The dataset entry it came from. */
  index: number;
  turns: PlannedTurn[];
  /** Client-tokenizer count of the first request's prompt (system prompt included). */
  firstTurnInTokens: number;
}

export interface SamplerOptions {
  /** Ask every request for this many tokens, instead of the dataset's answer lengths. */
  fixedOutputLen: number | undefined;
  systemPrompt: string | null;
  /** Filters on the first user turn's tokens, and on those plus its output length. */
  minInputLen: number | null;
  maxInputLen: number | null;
  maxTotalLen: number | null;
}

const MAX_CONSECUTIVE_REJECTIONS = 20_000;

/**
 * Draws conversations from a dataset reproducibly and tokenizes only those drawn. Entries that
 * are unusable or filtered out are skipped by drawing again, which keeps every sequence a pure
 * function of its seed.
 */
export class ConversationSampler {
  private readonly plans = new Map<number, ConversationPlan | string>();
  private readonly rejections = new Map<string, number>();

  constructor(
    private readonly source: DatasetSource,
    private readonly tokenizer: Tokenizer,
    private readonly options: SamplerOptions,
  ) {}

  /** Dataset entries drawn but not usable so far (too short, filtered out, no user turn), counted by reason. */
  skipped(): Record<string, number> {
    return Object.fromEntries(this.rejections);
  }

  /** The messages of a request: the system prompt, the history, then the user's new message. */
  messages(history: readonly ChatMessage[], userText: string): ChatMessage[] {
    const system: ChatMessage[] = this.options.systemPrompt === null ? [] : [{ role: "system", content: this.options.systemPrompt }];
    return [...system, ...history, { role: "user", content: userText }];
  }

  /** Input tokens of a request as the client tokenizer counts its prompt text. */
  countInput(messages: readonly ChatMessage[]): number {
    return this.tokenizer.count(promptText(messages));
  }

  /** User k's conversations: a sequence that depends only on (seed, k), whatever the number of users. */
  userSequence(seed: number, user: number): () => ConversationPlan {
    const random = seededRandom(seed, user);
    return () => this.draw(random);
  }

  /** Request j's conversation in rate mode: depends only on (seed, j). */
  requestPlan(seed: number, request: number): ConversationPlan {
    return this.draw(seededRandom(seed, request, 0x72617465));
  }

  /** Draws (and tokenizes) each user's first conversations ahead of a run: bad data shows before any request. */
  warm(seed: number, users: number, perUser: number): void {
    for (let user = 0; user < users; user++) {
      const next = this.userSequence(seed, user);
      for (let i = 0; i < perUser; i++) next();
    }
  }

  /** Draws (and tokenizes) the first `count` requests of rate mode ahead of a run. */
  warmRequests(seed: number, count: number): void {
    for (let request = 0; request < count; request++) this.requestPlan(seed, request);
  }

  private draw(random: () => number): ConversationPlan {
    for (let attempt = 0; attempt < MAX_CONSECUTIVE_REJECTIONS; attempt++) {
      const plan = this.plan(Math.floor(random() * this.source.size));
      if (typeof plan !== "string") return plan;
    }
    const reasons = [...this.rejections].map(([reason, count]) => `${count} ${reason}`).join(", ");
    throw new UsageError(`dataset ${this.source.name}: no usable entry after ${MAX_CONSECUTIVE_REJECTIONS} draws (${reasons})`);
  }

  private plan(index: number): ConversationPlan | string {
    let plan = this.plans.get(index);
    if (plan === undefined) {
      plan = this.buildPlan(index);
      if (typeof plan === "string") this.rejections.set(plan, (this.rejections.get(plan) ?? 0) + 1);
      this.plans.set(index, plan);
    }
    return plan;
  }

  /** The plan of one entry, or why it cannot be used. */
  private buildPlan(index: number): ConversationPlan | string {
    let conversation;
    try {
      conversation = this.source.conversation(index);
    } catch (error) {
      // One bad entry deep in a large file is skipped; a file that is bad throughout fails at load.
      if (error instanceof UsageError) return "unreadable entries";
      throw error;
    }
    if (conversation === null) return "entries without a user turn";
    const { fixedOutputLen, minInputLen, maxInputLen, maxTotalLen } = this.options;
    const lengths = conversation.userTurns.map((_, turn) => {
      if (fixedOutputLen !== undefined) return fixedOutputLen;
      const given = conversation.outputLens[turn];
      if (given !== null && given !== undefined) return given;
      const answer = conversation.answers[turn];
      return answer ? Math.max(1, this.tokenizer.count(answer)) : null;
    });
    const firstLen = lengths[0];
    if (firstLen === null || firstLen === undefined) return "entries without an answer or output_len to size the output (give --output-len)";
    const turns = conversation.userTurns.map((text, turn) => ({ text, outputLen: lengths[turn] ?? firstLen }));
    if (minInputLen !== null || maxInputLen !== null || maxTotalLen !== null) {
      const inputLen = this.tokenizer.count(turns[0]!.text);
      if (minInputLen !== null && inputLen < minInputLen) return "shorter than --min-input-len";
      if (maxInputLen !== null && inputLen > maxInputLen) return "longer than --max-input-len";
      if (maxTotalLen !== null && inputLen + firstLen > maxTotalLen) return "over --max-total-len";
    }
    return { index, turns, firstTurnInTokens: this.countInput(this.messages([], turns[0]!.text)) };
  }
}
