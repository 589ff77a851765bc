/**
 * The simulated model's output shape: a reasoning model thinks first (its first tokens), then
 * answers with content and, optionally, a tool call (its last tokens). Which tokens are which is
 * a function of the token's index, so every protocol writes the same answer and the truth log
 * says which tokens were thinking.
 */

/** Where thinking goes: vLLM's `delta.reasoning`, DeepSeek's / SGLang's / llama.cpp's `reasoning_content`, or `<think>…</think>` in the content. */
export const REASONING_FIELDS = ["reasoning", "reasoning_content", "think-tags"] as const;
export type ReasoningField = (typeof REASONING_FIELDS)[number];

export interface OutputShape {
  /** The first this-many tokens of every answer are thinking (fewer when the answer is shorter). */
  reasoningTokens: number;
  reasoningField: ReasoningField;
  /** The last this-many tokens of every answer are one streamed tool call (its name, then its arguments). */
  toolCallTokens: number;
  /**
   * Usage in every chunk when the request asks for it (vLLM's `continuous_usage_stats`); false: only
   * at the end, as OpenAI's, DeepSeek's and llama.cpp's chat APIs do, so a client must count chunks.
   */
  chunkUsage: boolean;
}

export const PLAIN_OUTPUT: OutputShape = { reasoningTokens: 0, reasoningField: "reasoning", toolCallTokens: 0, chunkUsage: true };

export type TokenKind = "thinking" | "content" | "tool";

/** How an answer of `total` tokens divides: thinking [0, thinking), content, then the tool call's last `tool` tokens. */
export interface OutputParts {
  thinking: number;
  tool: number;
}

export function outputParts(shape: OutputShape, total: number): OutputParts {
  const thinking = Math.min(shape.reasoningTokens, total);
  return { thinking, tool: Math.min(shape.toolCallTokens, total - thinking) };
}

export function tokenKind(parts: OutputParts, index: number, total: number): TokenKind {
  if (index < parts.thinking) return "thinking";
  if (index >= total - parts.tool) return "tool";
  return "content";
}

const THOUGHTS = [" Let", " me", " think", " about", " this", " step", " by", " step", "."];
const TOOL_NAME = "get_weather";
const ARGUMENTS = ['{"', "city", '":', ' "', "Paris", '",', ' "', "unit", '":', ' "', "celsius", '"}'];

/** The text of thinking token i; with tags the first is `<think>` and the last `</think>` (a one-token thinking is just the close, as when the template opened it). */
export function thinkingText(index: number, thinkingTokens: number, tagged: boolean): string {
  if (tagged) {
    if (index === thinkingTokens - 1) return "</think>";
    if (index === 0) return "<think>";
  }
  return THOUGHTS[index % THOUGHTS.length]!;
}

/** The tool call's piece for its token i: the function's name first, then pieces of its JSON arguments. */
export function toolCallPiece(index: number): { name?: string; arguments: string } {
  return index === 0 ? { name: TOOL_NAME, arguments: "" } : { arguments: ARGUMENTS[(index - 1) % ARGUMENTS.length]! };
}

export const TOOL_CALL_NAME = TOOL_NAME;
