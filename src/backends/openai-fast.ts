import type { EventDecoder, StreamState } from "./stream-state.ts";

/**
 * The fast path of the OpenAI decoders: the common token event (one choice, its text or a
 * content-only delta, no finish reason, usage absent, null or just the three counts) recognised
 * without JSON.parse. Anything else — a finish reason, usage with details, reasoning, tool calls,
 * an error, another key, another order — is not guessed at: it goes to the reference decoder,
 * which parses it in full. Both give the same calls on the StreamState (tests/fast-path.test.ts
 * feeds them the same recorded streams).
 *
 * Two steps. The first event of a request is matched by one anchored pattern (JSON's own rules);
 * what it shows becomes the request's template: the bytes before the text (id, object, created,
 * model, the choice's head: the same in every event of a request) and the fixed bytes after it
 * up to the usage counts. Later events are checked against the template (startsWith, a scan of the
 * text to its closing quote, two integers), which costs a fraction of the pattern. An event the
 * template does not fit exactly goes to the pattern, then to the reference.
 */

/** JSON's own rules, or JSON.parse would refuse what the fast path took: no leading zeros, no raw control characters. */
const INT = String.raw`(?:0|[1-9]\d*)`;
const PLAIN = String.raw`[^"\\\x00-\x1f]*`;
const USAGE = String.raw`(?:,"usage":(?:null|\{"prompt_tokens":(${INT}),(?:"total_tokens":${INT},"completion_tokens":(${INT})|"completion_tokens":(${INT}),"total_tokens":${INT})\}))?`;
const HEAD = String.raw`^\{"id":"(${PLAIN})","object":"`;
const MODEL = String.raw`","created":${INT},"model":"${PLAIN}","choices":\[\{"index":0,`;
const TEXT = String.raw`"((?:[^"\\\x00-\x1f]|\\.)*)"`;
const TAIL = String.raw`(?:,"logprobs":null)?(?:,"finish_reason":null)?(?:,"stop_reason":null)?\}\]`;

const COMPLETION_SOURCE = `${HEAD}text_completion${MODEL}"text":${TEXT}${TAIL}${USAGE}\\}$`;
const CHAT_SOURCE = `${HEAD}chat\\.completion\\.chunk${MODEL}"delta":\\{"content":${TEXT}\\}${TAIL}${USAGE}\\}$`;
const COMPLETION_EVENT = new RegExp(COMPLETION_SOURCE);
const CHAT_EVENT = new RegExp(CHAT_SOURCE);
/** The same patterns with match indices (slower): for a request's first event, to learn its template. */
const COMPLETION_LEARN = new RegExp(COMPLETION_SOURCE, "d");
const CHAT_LEARN = new RegExp(CHAT_SOURCE, "d");

/** What every token event of one request has in common, learned from its first. */
interface Template {
  /** Everything before the text's first character. */
  head: string;
  /** From the text's closing quote to the first usage count (to the end when the event has no counts). */
  tail: string;
  /** Between the two counts; null: the event ends after `tail` (usage absent or null). */
  between: string | null;
  /** The first count is completion_tokens (else total_tokens, vLLM's order). */
  completionFirst: boolean;
  requestId: string;
  promptTokens: number;
}

const QUOTE = 34;
const BACKSLASH = 92;
const BRACE_CLOSE = 125;

/** Where the integer parsed by `intAt` ended; -1 when none was there. */
let intEnd = -1;

/** A JSON integer (no sign, no leading zero, at most 15 digits) at `from`; sets intEnd. */
function intAt(payload: string, from: number): number {
  let value = 0;
  let i = from;
  const length = payload.length;
  for (; i < length; i++) {
    const digit = payload.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) break;
    value = value * 10 + digit;
  }
  intEnd = i === from || (i - from > 1 && payload.charCodeAt(from) === 48) || i - from > 15 ? -1 : i;
  return value;
}

/** The event by the template; false when it does not fit exactly (nothing changed then). */
function byTemplate(state: StreamState, t: Template, payload: string, at: number): boolean {
  if (!payload.startsWith(t.head)) return false;
  const length = payload.length;
  const start = t.head.length;
  let i = start;
  let escaped = false;
  for (; i < length; i++) {
    const c = payload.charCodeAt(i);
    if (c === QUOTE) break;
    if (c < 32) return false;
    if (c === BACKSLASH) {
      escaped = true;
      i++;
      if (i < length && payload.charCodeAt(i) < 32) return false;
    }
  }
  if (i >= length || !payload.startsWith(t.tail, i)) return false;
  let completion = -1;
  let end = i + t.tail.length;
  if (t.between !== null) {
    const first = intAt(payload, end);
    if (intEnd === -1 || !payload.startsWith(t.between, intEnd)) return false;
    const second = intAt(payload, intEnd + t.between.length);
    if (intEnd === -1) return false;
    completion = t.completionFirst ? first : second;
    end = intEnd + 2;
    if (payload.charCodeAt(intEnd) !== BRACE_CLOSE || payload.charCodeAt(intEnd + 1) !== BRACE_CLOSE) return false;
  }
  if (end !== length) return false;
  let text = payload.slice(start, i);
  if (escaped) {
    try {
      text = JSON.parse(`"${text}"`) as string;
    } catch {
      return false; // a bad escape: the pattern, then the reference, report the event
    }
  }
  const outcome = state.outcome;
  if (outcome.requestId == null) outcome.requestId = t.requestId;
  let tokens: number;
  if (completion >= 0) {
    outcome.serverPromptTokens = t.promptTokens;
    outcome.serverOutTokens = completion;
    tokens = Math.max(0, completion - state.counted);
  } else tokens = text.length > 0 ? 1 : 0;
  state.tokens(at, tokens, text, 0, "");
  return true;
}

/** The fast path in front of `reference` (openAiDecoder with the same reader). */
export function fastOpenAiDecoder(state: StreamState, kind: "completions" | "chat", reference: EventDecoder): EventDecoder {
  const pattern = kind === "completions" ? COMPLETION_EVENT : CHAT_EVENT;
  const learner = kind === "completions" ? COMPLETION_LEARN : CHAT_LEARN;
  let template: Template | null = null;

  return (payload, at) => {
    if (template !== null && byTemplate(state, template, payload, at)) return;
    const match = payload.charCodeAt(0) === 123 ? (template === null ? learner : pattern).exec(payload) : null;
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
    if (template === null) template = templateOf(payload, match as RegExpExecArray & { indices: Array<[number, number]> });
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

/** The template of a request from its first event, matched with indices: group 2 is the text, 3 the prompt count, 4 or 5 the completion count. */
function templateOf(payload: string, match: RegExpExecArray & { indices: Array<[number, number] | undefined> }): Template {
  const [textStart, textEnd] = match.indices[2]!;
  const head = payload.slice(0, textStart);
  const rest = payload.slice(textEnd); // the closing quote onwards: fixed keys, nulls and counts only
  const requestId = match[1]!;
  if (match[3] === undefined) return { head, tail: rest, between: null, completionFirst: false, requestId, promptTokens: 0 };
  const completionFirst = match[5] !== undefined;
  const firstKey = completionFirst ? `"completion_tokens":` : `"total_tokens":`;
  const secondKey = completionFirst ? `,"total_tokens":` : `,"completion_tokens":`;
  const tailEnd = rest.lastIndexOf(firstKey) + firstKey.length;
  return { head, tail: rest.slice(0, tailEnd), between: secondKey, completionFirst, requestId, promptTokens: Number(match[3]) };
}
