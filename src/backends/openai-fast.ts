import type { EventDecoder, StreamState } from "./stream-state.ts";

/**
 * The fast path of the OpenAI decoders: the common token event (one choice, its text or a
 * content-only delta, no finish reason, usage absent, null or just the three counts) recognised by
 * one anchored pattern, without JSON.parse. Anything else — a finish reason, usage with details,
 * reasoning, tool calls, an error, another key, another order — is not guessed at: it goes to
 * the reference decoder, which parses it in full. Both give the same calls on the StreamState
 * (tests/openai-fast.test.ts feeds them the same recorded streams).
 */

/** JSON's own rules, or JSON.parse would refuse what the fast path took: no leading zeros, no raw control characters. */
const INT = String.raw`(?:0|[1-9]\d*)`;
const PLAIN = String.raw`[^"\\\x00-\x1f]*`;
const USAGE = String.raw`(?:,"usage":(?:null|\{"prompt_tokens":(${INT}),(?:"total_tokens":${INT},"completion_tokens":(${INT})|"completion_tokens":(${INT}),"total_tokens":${INT})\}))?`;
const HEAD = String.raw`^\{"id":"(${PLAIN})","object":"`;
const MODEL = String.raw`","created":${INT},"model":"${PLAIN}","choices":\[\{"index":0,`;
const TEXT = String.raw`"((?:[^"\\\x00-\x1f]|\\.)*)"`;
const TAIL = String.raw`(?:,"logprobs":null)?(?:,"finish_reason":null)?(?:,"stop_reason":null)?\}\]`;

const COMPLETION_EVENT = new RegExp(`${HEAD}text_completion${MODEL}"text":${TEXT}${TAIL}${USAGE}\\}$`);
const CHAT_EVENT = new RegExp(`${HEAD}chat\\.completion\\.chunk${MODEL}"delta":\\{"content":${TEXT}\\}${TAIL}${USAGE}\\}$`);

/** The fast path in front of `reference` (openAiDecoder with the same reader). */
export function fastOpenAiDecoder(state: StreamState, kind: "completions" | "chat", reference: EventDecoder): EventDecoder {
  const pattern = kind === "completions" ? COMPLETION_EVENT : CHAT_EVENT;
  return (payload, at) => {
    const match = payload.charCodeAt(0) === 123 ? pattern.exec(payload) : null;
    if (match === null) return reference(payload, at);
    const raw = match[2]!;
    let text = raw;
    if (raw.includes("\\")) {
      try {
        text = JSON.parse(`"${raw}"`) as string;
      } catch {
        return reference(payload, at); // a bad escape: the reference reports the event
      }
    }
    const outcome = state.outcome;
    if (outcome.requestId == null) outcome.requestId = match[1]!;
    const promptTokens = match[3];
    const completion = match[4] ?? match[5];
    let tokens: number;
    if (completion !== undefined) {
      const completionTokens = Number(completion);
      outcome.serverPromptTokens = Number(promptTokens);
      outcome.serverOutTokens = completionTokens;
      tokens = Math.max(0, completionTokens - state.counted);
    } else tokens = text.length > 0 ? 1 : 0;
    state.tokens(at, tokens, text, 0, "");
  };
}
