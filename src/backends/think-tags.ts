import type { Backend, TokenListener } from "./backend.ts";
import { thinkingShare } from "./stream-state.ts";

/** Where the thinking ends: `</think>` (DeepSeek-R1, Qwen3, QwQ), `◁/think▷` (Kimi K2 Thinking). */
const CLOSE_TAGS = ["</think>", "\u25c1/think\u25b7"] as const;

/** The end of the first close tag in `text`, or -1. */
function thinkingEnd(text: string): number {
  for (const tag of CLOSE_TAGS) {
    const at = text.indexOf(tag);
    if (at >= 0) return at + tag.length;
  }
  return -1;
}

/**
 * For a model served without a reasoning parser, whose thinking is inside its content between
 * `<think>` and `</think>` (or Kimi's `◁think▷` … `◁/think▷`) (`--think-tags`): the answer is thinking until `</think>` (DeepSeek-R1's
 * chat template opens the `<think>` in the prompt, Qwen3 writes it), the answer's content starts
 * after it. Works on the token events of any backend; a later turn gets the content after the tag.
 * The tag is taken to arrive within one event, as servers send a special token.
 */
export function withThinkTags(backend: Backend): Backend {
  return {
    ...backend,
    generate: async (request, onTokens, signal, onRawEvent) => {
      const split = new ThinkTagSplitter(onTokens);
      const outcome = await backend.generate(request, split.listener, signal, onRawEvent);
      return split.serverSeparates ? outcome : { ...outcome, text: answerAfterThinking(outcome.text) };
    },
  };
}

/**
 * Reclassifies each event's content: thinking until the closing tag, the answer after it. A stream
 * whose thinking comes in its own field before any content has a server that separates it (a
 * reasoning parser): its content is the answer, as without --think-tags.
 */
export class ThinkTagSplitter {
  private thinking = true;
  private sawContent = false;
  /** The server streamed the thinking in its own field: the content was left as it came. */
  serverSeparates = false;
  readonly listener: TokenListener;

  constructor(onTokens: TokenListener) {
    this.listener = (at, tokens, text, thinkingTokens, thinkingText) => {
      if (this.thinking && !this.sawContent && thinkingText.length > 0 && text.length === 0) {
        this.thinking = false;
        this.serverSeparates = true;
      }
      if (!this.thinking) return onTokens(at, tokens, text, thinkingTokens, thinkingText);
      if (text.length > 0) this.sawContent = true;
      // until the tag, every token is thinking (an empty piece too: a character split over two tokens)
      const end = text.length === 0 ? -1 : thinkingEnd(text);
      if (end < 0) {
        return onTokens(at, tokens, "", tokens, thinkingText.length === 0 ? text : thinkingText + text);
      }
      this.thinking = false;
      const thought = text.slice(0, end);
      const answer = text.slice(end);
      const ownTokens = tokens - thinkingTokens;
      const thoughtTokens = thinkingTokens + thinkingShare(ownTokens, thought.length, answer.length);
      onTokens(at, tokens, answer, thoughtTokens, thinkingText.length === 0 ? thought : thinkingText + thought);
    };
  }
}

/** The content after the thinking: what a later turn sends back (nothing when the thinking never closed). */
export function answerAfterThinking(text: string): string {
  const end = thinkingEnd(text);
  return end < 0 ? "" : text.slice(end);
}
