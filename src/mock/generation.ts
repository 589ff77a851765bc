import { outputParts, PLAIN_OUTPUT, thinkingText, tokenKind, toolCallPiece, type OutputParts, type OutputShape } from "./thinking.ts";
import { faultySink, type FaultSchedule } from "./faults.ts";
import { streamingResponse } from "./http-stream.ts";
import type { PrefixCache } from "./prefix-cache.ts";
import type { Sequence, TimingModel } from "./timing.ts";
import { epochMs, type TruthEntry, type TruthLog } from "./truth-log.ts";
import type { StreamFormat, TokenSink } from "./stream-types.ts";

export type { StreamFormat, TokenSink };

const WORDS = [" the", " model", " answers", " with", " simulated", " tokens", " at", " a", " steady", " pace", ",", " and", " then", " some", " more", "."];

/** The text of output token i: deterministic, never empty, so every token is visible in a stream. */
export function tokenText(index: number): string {
  return WORDS[index % WORDS.length]!;
}

/** A stand-in token id for output token i. */
export function tokenId(index: number): number {
  return 1000 + (index % WORDS.length);
}

/** The simulator's stand-in for a tokenizer: about four characters a token, as for English text. */
export function approximateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

/**
 * How many tokens the simulator writes: exactly max with ignore-eos (asked for, or forced with
 * --ignore-eos), else a prompt-dependent "natural" length between min and max, as if the model
 * had emitted EOS there.
 */
export function outputLength(context: MockContext, prompt: string, maxTokens: number, minTokens: number, ignoreEos: boolean): number {
  const cap = context.faults.maxOutputTokens ?? Infinity;
  if (ignoreEos || context.faults.ignoreEos) return Math.min(maxTokens, cap);
  let hash = 2166136261;
  for (let i = 0; i < prompt.length; i++) hash = Math.imul(hash ^ prompt.charCodeAt(i), 16777619);
  const natural = 1 + ((hash >>> 0) % maxTokens);
  return Math.min(maxTokens, Math.max(minTokens, natural), cap);
}

export interface MockFaults {
  /** Every answer fails with the protocol's error event once this many tokens were written. */
  failAfterTokens: number | null;
  /** Every answer runs to its max tokens, as if the request had asked for ignore-eos. */
  ignoreEos: boolean;
  /** Every answer is cut at this many tokens, as a server with a length limit does (null: no cap). */
  maxOutputTokens: number | null;
  /**
   * Not a fault: what every answer is made of (thinking first, a tool call last; absent: plain
   * content). It travels with the faults because they reach every protocol the same way.
   */
  output?: OutputShape;
}

export interface MockContext {
  protocol: string;
  model: string;
  timing: TimingModel;
  truth: TruthLog;
  nextId(): number;
  /** Generation requests must carry `Authorization: Bearer <apiKey>` when set. */
  apiKey: string | null;
  faults: MockFaults;
  /** Write each prompt's text into the truth log (--log-prompts). */
  logPrompts: boolean;
  /** Which request draws which --faults fault. */
  faultSchedule: FaultSchedule;
  /** The prefix cache (--prefix-cache); null: every prompt is prefilled whole. */
  prefixCache: PrefixCache | null;
}

/** Admits a prompt to the prefix cache: how many of its leading tokens were cached (0 without a cache). */
export function cachedPrefix(context: MockContext, prompt: string, promptTokens = approximateTokens(prompt)): number {
  return context.prefixCache?.admit(prompt, promptTokens) ?? 0;
}

/** The answer's shape for this simulator (plain content unless --reasoning-tokens or --tool-call-tokens). */
export function outputShape(context: MockContext): OutputShape {
  return context.faults.output ?? PLAIN_OUTPUT;
}

/**
 * The text of token `index` of an answer of `total` tokens for a protocol that has only text:
 * thinking inside `<think>…</think>` (as a model served without a reasoning parser writes it), a
 * tool call as its name and JSON arguments, content as words.
 */
export function flatTokenText(parts: OutputParts, index: number, total: number): string {
  switch (tokenKind(parts, index, total)) {
    case "thinking":
      return thinkingText(index, parts.thinking, true);
    case "tool": {
      const piece = toolCallPiece(index - (total - parts.tool));
      return piece.name ?? piece.arguments;
    }
    default:
      return tokenText(index);
  }
}

/**
 * Runs one generation: the timing model says when tokens are ready, the sink writes them in the
 * protocol's form, every write time goes to the truth log, and --fail-after-tokens turns the
 * next event into an error. `cachedTokens` of the prompt are in the prefix cache (protocols that
 * report them look them up first; the others leave it to this function). Returns the function to
 * call when the client goes away.
 */
export function runGeneration(context: MockContext, prompt: string, outputTokens: number, sink: TokenSink, cachedTokens?: number): () => void {
  const arrival = epochMs();
  const promptTokens = approximateTokens(prompt);
  const cached = cachedTokens ?? cachedPrefix(context, prompt, promptTokens);
  const id = context.nextId();
  const tokenMs: number[] = [];
  const failAfter = context.faults.failAfterTokens;
  const parts = outputParts(outputShape(context), outputTokens);
  let ended = false;
  const end = (status: TruthEntry["status"]) => {
    if (ended) return;
    ended = true;
    sequence.cancelled = true;
    context.truth.append({
      id, protocol: context.protocol, arrival_ms: arrival, prompt_tokens: promptTokens, cached_tokens: cached,
      output_tokens: tokenMs.length, token_ms: tokenMs, end_ms: epochMs(), status,
      thinking_tokens: Math.min(parts.thinking, tokenMs.length), tool_call_tokens: Math.max(0, tokenMs.length - (outputTokens - parts.tool)),
      ...(context.logPrompts ? { prompt } : {}),
      ...sink.truth?.(),
    });
    sink.end(status);
  };
  const sequence: Sequence = {
    promptTokens,
    cachedTokens: cached,
    outputTokens,
    emitted: 0,
    cancelled: false,
    emit(count: number) {
      if (ended) return;
      if (failAfter !== null && sequence.emitted >= failAfter) {
        sink.fail(`simulated failure after ${failAfter} tokens (--fail-after-tokens)`);
        end("failed");
        return;
      }
      if (failAfter !== null) count = Math.min(count, failAfter - sequence.emitted);
      const first = sequence.emitted;
      sequence.emitted += count;
      const finished = sequence.emitted >= outputTokens;
      const texts = Array.from({ length: count }, (_, i) => flatTokenText(parts, first + i, outputTokens));
      // Taken just before the write: the HTTP server hands the bytes to the socket within it.
      const at = epochMs();
      if (!sink.write(texts, first, finished)) {
        end("cancelled");
        return;
      }
      for (let i = 0; i < count; i++) tokenMs.push(at);
      if (finished) end("ok");
    },
  };
  context.timing.admit(sequence);
  return () => end("cancelled");
}

/** Streams one generation over HTTP in `format`; the headers go out at once, the body as tokens are ready. */
export function streamGeneration(
  context: MockContext,
  request: Request,
  prompt: string,
  outputTokens: number,
  format: StreamFormat,
  headers: Record<string, string> = { "content-type": "text/event-stream", "cache-control": "no-cache" },
  cachedTokens?: number,
): Response {
  return streamingResponse(headers, (out) => {
    const base: TokenSink = {
      write: (texts, first, finished) => out.write(format.tokens(texts, first, finished) + (finished ? format.end() : "")),
      fail: (message) => void out.write(format.error(message)),
      end(status) {
        if (status !== "cancelled") out.close();
      },
    };
    const sink = faultySink(request, base, out, format, outputTokens);
    if (format.prelude) out.write(format.prelude);
    const cancel = runGeneration(context, prompt, outputTokens, sink, cachedTokens);
    request.signal.addEventListener("abort", cancel, { once: true });
  });
}

/** The server's load as Prometheus gauges (and counters, when a fifth element says so), under the names its real counterpart uses. */
export function prometheusGauges(gauges: ReadonlyArray<readonly [name: string, help: string, value: number, labels?: string, type?: "gauge" | "counter"]>): Response {
  const text = gauges
    .map(([name, help, value, labels, type = "gauge"]) => `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name}${labels ? `{${labels}}` : ""} ${Number.isInteger(value) ? value.toFixed(1) : String(value)}\n`)
    .join("");
  return new Response(text, { headers: { "content-type": "text/plain; version=0.0.4" } });
}

export function jsonResponse(body: unknown, status = 200): Response {
  return Response.json(body, { status });
}

/** The request's JSON body as an object, or null when it is not one. */
export async function readJsonBody(request: Request): Promise<Record<string, unknown> | null> {
  try {
    const body: unknown = await request.json();
    return body !== null && typeof body === "object" && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** An integer field with a default; null when present but not an integer ≥ min. */
export function integerField(value: unknown, fallback: number, min: number): number | null {
  if (value === undefined || value === null) return fallback;
  return Number.isInteger(value) && (value as number) >= min ? (value as number) : null;
}

/** One SSE event; `space` after `data:` as most servers write it, none as LightLLM and TGI do. */
export function sseEvent(value: unknown, space = true): string {
  return `data:${space ? " " : ""}${typeof value === "string" ? value : JSON.stringify(value)}\n\n`;
}
