/** Thinking (reasoning) and answer of one request, from its token events (offsets in ms from the send). */

/** What a request's events said about thinking, gathered as they arrive: a few numbers, nothing per token. */
export interface ThinkingTally {
  /** Thinking tokens counted from the stream. */
  thinkingTokens: number;
  /** Offset of the first event with a thinking token; null when none came. */
  firstThinking: number | null;
  /** Offset of the last event with a thinking token. */
  lastThinking: number | null;
  /** Offset of the first event with an answer token (content, tool call, …); null when none came. */
  firstAnswer: number | null;
  /** Offset of the first event with an answer token after thinking had begun. */
  firstAnswerAfterThinking: number | null;
}

export function emptyTally(): ThinkingTally {
  return { thinkingTokens: 0, firstThinking: null, lastThinking: null, firstAnswer: null, firstAnswerAfterThinking: null };
}

/** Adds one event carrying `tokens`, `thinkingTokens` of which were thinking. */
export function tallyEvent(tally: ThinkingTally, offset: number, tokens: number, thinkingTokens: number): void {
  if (thinkingTokens > 0) {
    tally.thinkingTokens += thinkingTokens;
    tally.firstThinking ??= offset;
    tally.lastThinking = offset;
  }
  if (tokens > thinkingTokens) {
    tally.firstAnswer ??= offset;
    if (tally.firstThinking !== null) tally.firstAnswerAfterThinking ??= offset;
  }
}

export interface ThinkingMetrics {
  /** Thinking tokens: the server's count where it gave one, else the streamed count. */
  reasoningTokens: number;
  /** Output tokens that were not thinking: out_tokens − reasoning tokens. */
  answerTokens: number;
  /** Time to the first answer token (ms from the send); null when no answer token came. */
  ttftContent: number | null;
  /** From the first thinking token to the first answer token after it (to the last thinking token when none followed); null without thinking. */
  thinkingMs: number | null;
}

/**
 * The request's thinking figures. A server count of 0 while the stream carried thinking is SGLang's
 * "not counted" (before its #15562), so the streamed count is taken then.
 */
export function thinkingMetrics(tally: ThinkingTally, outTokens: number, serverReasoningTokens: number | null): ThinkingMetrics {
  const server = serverReasoningTokens !== null && (serverReasoningTokens > 0 || tally.thinkingTokens === 0) ? serverReasoningTokens : null;
  const reasoningTokens = Math.min(outTokens, server ?? tally.thinkingTokens);
  const thinkingEnd = tally.firstAnswerAfterThinking ?? tally.lastThinking;
  return {
    reasoningTokens,
    answerTokens: outTokens - reasoningTokens,
    ttftContent: tally.firstAnswer,
    thinkingMs: tally.firstThinking === null || thinkingEnd === null ? null : thinkingEnd - tally.firstThinking,
  };
}
