import { UsageError } from "../config/usage-error.ts";

/** One conversation's opening exchange: what the user asked and the reference answer. */
export interface Conversation {
  prompt: string;
  referenceAnswer: string;
}

interface ShareGptTurn {
  from?: unknown;
  value?: unknown;
}

const USER_ROLES = new Set(["human", "user"]);
const ASSISTANT_ROLES = new Set(["gpt", "assistant", "chatgpt", "bard", "bing"]);

/**
 * Reads a ShareGPT-shaped JSON file (`[{id, conversations: [{from, value}, ...]}]`) and keeps the
 * conversations that have a user turn followed by an answer.
 */
export async function loadShareGpt(path: string): Promise<Conversation[]> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new UsageError(`dataset ${path}: file not found (--dataset-path)`);
  let data: unknown;
  try {
    data = JSON.parse(await file.text());
  } catch (error) {
    throw new UsageError(`dataset ${path}: not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(data)) {
    throw new UsageError(`dataset ${path}: expected a JSON array of {id, conversations: [{from, value}]}, got ${typeof data}`);
  }
  const conversations: Conversation[] = [];
  let shaped = 0;
  for (const entry of data) {
    const turns = (entry as { conversations?: unknown })?.conversations;
    if (!Array.isArray(turns)) continue;
    shaped++;
    const exchange = firstExchange(turns as ShareGptTurn[]);
    if (exchange) conversations.push(exchange);
  }
  if (shaped === 0) {
    throw new UsageError(`dataset ${path}: no entry has a "conversations" array; expected ShareGPT's [{id, conversations: [{from, value}]}]`);
  }
  if (conversations.length === 0) {
    throw new UsageError(`dataset ${path}: no conversation has a non-empty human turn followed by an answer`);
  }
  return conversations;
}

function firstExchange(turns: ShareGptTurn[]): Conversation | null {
  for (let i = 0; i + 1 < turns.length; i++) {
    const ask = turns[i]!;
    const answer = turns[i + 1]!;
    if (!USER_ROLES.has(String(ask.from)) || !ASSISTANT_ROLES.has(String(answer.from))) continue;
    if (typeof ask.value !== "string" || typeof answer.value !== "string") continue;
    if (ask.value.trim() === "" || answer.value.trim() === "") continue;
    return { prompt: ask.value, referenceAnswer: answer.value };
  }
  return null;
}
