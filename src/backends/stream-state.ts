import type { GenerationOutcome, TokenListener } from "./backend.ts";

/** Turns one stream event's payload into token calls and outcome changes on a StreamState. */
export type EventDecoder = (payload: string, at: number) => void;

/**
 * What a stream has said so far, shared by every protocol's decoder: the outcome being built,
 * whether the server said the answer is finished, and how many tokens were counted.
 */
export class StreamState {
  readonly outcome: GenerationOutcome = { error: null, serverOutTokens: null, serverPromptTokens: null, serverReasoningTokens: null, finishReason: null, text: "" };
  /** The server said the answer is finished (a finish reason, a finished flag, a FINISHED status); usage may still follow. */
  finished = false;
  /** The stream's own end marker ([DONE]) came: later events change nothing. */
  ended = false;
  /** Output tokens counted from the events so far. */
  counted = 0;
  /** Of them, thinking tokens. */
  thinkingCounted = 0;

  constructor(private readonly onTokens: TokenListener, private readonly keepText = true) {}

  /** After the end marker or a failure, later events change nothing. */
  get over(): boolean {
    return this.ended || this.outcome.error !== null;
  }

  /**
   * One event carrying `count` output tokens (0 for an event with text but no token of its own) and
   * the answer's content in it; `thinkingCount` of the tokens were thinking, with `thinkingText`
   * (passed on for `probe`, never kept: the answer's text is only its content).
   */
  tokens(at: number, count: number, text: string, thinkingCount = 0, thinkingText = ""): void {
    this.counted += count;
    this.thinkingCounted += thinkingCount;
    if (text.length > 0 && this.keepText) this.outcome.text += text;
    if (count > 0 || text.length > 0 || thinkingText.length > 0) this.onTokens(at, count, text, thinkingCount, thinkingText);
  }

  /** The first failure wins: it is the cause, later ones are its consequences. */
  fail(reason: string): void {
    if (this.outcome.error === null) this.outcome.error = reason;
  }

  /**
   * The stream closed. A stream that closes before the server said the answer was finished (or
   * ended the stream) failed, unless the protocol marks neither (`closeIsComplete`).
   */
  finish(closeIsComplete = false): GenerationOutcome {
    if (this.outcome.error === null && !this.finished && !this.ended && !closeIsComplete) {
      this.outcome.error = "stream ended before the answer was complete";
    }
    return this.outcome;
  }

  /** Parses a JSON event; an unparseable one fails the request (a client cannot guess what it meant). */
  json(payload: string): Record<string, unknown> | null {
    try {
      const value: unknown = JSON.parse(payload);
      if (value !== null && typeof value === "object" && !Array.isArray(value)) return value as Record<string, unknown>;
    } catch {
      // reported below
    }
    this.fail(`unparseable stream event: ${payload.slice(0, 200)}`);
    return null;
  }

  /** Fails the request when the event is an error report; returns whether it was. */
  failOnServerError(event: Record<string, unknown>): boolean {
    const message = serverErrorOf(event);
    if (message === null) return false;
    this.fail(`server error: ${message}`);
    return true;
  }
}

/**
 * The message of an error event, in the shapes servers use: `{"error": "..."}`,
 * `{"error": {"message": "..."}}` (OpenAI, sglang, llama.cpp) and `{"object": "error", "message": "..."}` (older vLLM).
 */
export function serverErrorOf(event: Record<string, unknown>): string | null {
  const error = event.error;
  if (typeof error === "string") return error;
  if (error !== undefined && error !== null) {
    const message = (error as { message?: unknown }).message;
    return typeof message === "string" ? message : JSON.stringify(error).slice(0, 300);
  }
  if (event.object === "error") return typeof event.message === "string" ? event.message : JSON.stringify(event).slice(0, 300);
  return null;
}

/**
 * How many of an event's `tokens` were thinking when the event carries both thinking and answer
 * output and the server did not say: a share by characters, at least one each when there are two
 * tokens or more; a one-token event with both is the answer's.
 */
export function thinkingShare(tokens: number, thinkingChars: number, answerChars: number): number {
  if (tokens <= 0 || thinkingChars === 0) return 0;
  if (answerChars === 0) return tokens;
  if (tokens === 1) return 0;
  const share = Math.round((tokens * thinkingChars) / (thinkingChars + answerChars));
  return Math.min(tokens - 1, Math.max(1, share));
}

/**
 * The server's count of thinking tokens in a usage object: `completion_tokens_details.reasoning_tokens`
 * (OpenAI, DeepSeek, vLLM), or `reasoning_tokens` beside the other counts (SGLang); null when absent.
 */
export function reasoningTokensOf(usage: Record<string, unknown> | null | undefined): number | null {
  if (usage === null || usage === undefined) return null;
  const details = usage.completion_tokens_details;
  if (details !== null && typeof details === "object") {
    const count = (details as Record<string, unknown>).reasoning_tokens;
    if (typeof count === "number" && Number.isFinite(count)) return count;
  }
  return numberOf(usage.reasoning_tokens);
}

/** A number field, or null when it is absent or not a number. */
export function numberOf(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

export function stringOf(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

export function objectOf(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}
