import type { Conversation } from "./conversation.ts";

/**
 * Turns one parsed dataset entry into a conversation. Accepted shapes:
 * - ShareGPT: `{conversations: [{from: "human"|"gpt", value}, ...]}`
 * - prompt:   `{prompt: "...", output_len?: N}`
 * - messages: `{messages: [{role: "system"|"user"|"assistant", content}, ...]}`
 * Returns a string describing the problem when the entry is none of these.
 */
export function conversationOf(entry: unknown): Conversation | null | string {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return `expected an object, got ${Array.isArray(entry) ? "an array" : typeof entry}`;
  }
  const record = entry as Record<string, unknown>;
  if (Array.isArray(record.conversations)) return fromTurns(record.conversations, "from", "value");
  if (Array.isArray(record.messages)) return fromTurns(record.messages, "role", "content");
  if ("prompt" in record) return fromPrompt(record.prompt, record.output_len);
  return 'has none of "conversations" (ShareGPT), "prompt" or "messages"';
}

const USER_ROLES = new Set(["human", "user"]);
const ASSISTANT_ROLES = new Set(["gpt", "assistant", "chatgpt", "bard", "bing", "model"]);

/** User turns, each with the answer that follows it. A conversation that opens with the assistant skips that turn. */
function fromTurns(turns: unknown[], roleKey: string, textKey: string): Conversation | null {
  const conversation: Conversation = { userTurns: [], answers: [], outputLens: [] };
  for (let i = 0; i < turns.length; i++) {
    const turn = turns[i] as Record<string, unknown> | null;
    const text = turn?.[textKey];
    if (!USER_ROLES.has(String(turn?.[roleKey])) || typeof text !== "string" || text.trim() === "") continue;
    const next = turns[i + 1] as Record<string, unknown> | undefined;
    const answer = next && ASSISTANT_ROLES.has(String(next[roleKey])) && typeof next[textKey] === "string" ? (next[textKey] as string) : null;
    conversation.userTurns.push(text);
    conversation.answers.push(answer && answer.trim() !== "" ? answer : null);
    conversation.outputLens.push(null);
  }
  return conversation.userTurns.length > 0 ? conversation : null;
}

function fromPrompt(prompt: unknown, outputLen: unknown): Conversation | null | string {
  if (typeof prompt !== "string") return `"prompt" must be a string, got ${typeof prompt}`;
  if (outputLen !== undefined && outputLen !== null && (!Number.isInteger(outputLen) || (outputLen as number) < 1)) {
    return `"output_len" must be a positive integer, got ${JSON.stringify(outputLen)}`;
  }
  if (prompt.trim() === "") return null;
  return { userTurns: [prompt], answers: [null], outputLens: [(outputLen as number | undefined) ?? null] };
}
