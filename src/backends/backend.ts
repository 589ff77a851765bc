/** The one interface every protocol module implements. Nothing outside backends/ knows a wire format. */

export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface GenerationRequest {
  /** Unique within the run; some protocols need a request id. */
  id: number;
  /**
   * What the user sends: an optional system message, earlier turns, then the new user message.
   * Chat protocols send them as messages; text protocols send `promptText(messages)`.
   */
  messages: ChatMessage[];
  /** Exactly this many output tokens are asked for (ignore-eos / min-tokens where the protocol has them). */
  outputLen: number;
  /**
   * A later turn sends the answer back: keep its text (the outcome's `text`). False: nothing of
   * the answer is kept (a substring of each event would hold the whole event's text alive). Absent: kept.
   */
  keepText?: boolean;
}

/**
 * Called for every stream event that carries output: `at` is performance.now() when the bytes
 * arrived, `tokens` how many tokens the event carries (0 for events that carry none), `text` the
 * answer's content in it. `thinkingTokens` of the `tokens` were thinking (reasoning), whose text is
 * `thinkingText`; the rest are the answer (content, tool calls, refusals, any other generated field).
 */
export type TokenListener = (at: number, tokens: number, text: string, thinkingTokens: number, thinkingText: string) => void;

/**
 * What the transport tells the caller about the send, written once per request (never per token):
 * when the send that counts went out.
 */
export interface SendState {
  /** performance.now() just before the request that counts went out; the caller sets the first, a resend overwrites it. */
  sentAt: number;
  /** The first send failed on a connection the server had closed (no response byte): it went again on a fresh one. */
  reconnected: boolean;
  /** ms the request spent opening its connection (TCP, TLS); null when it went on a kept-alive or preconnected one. */
  connectMs?: number | null;
}

/** Called with every stream event exactly as it arrived (an SSE payload, a gRPC message as JSON), for `llmbench probe`. */
export type RawEventListener = (at: number, raw: string) => void;

export interface GenerationOutcome {
  /** Null when the stream ended normally; otherwise why it failed (the server's message where it gave one). */
  error: string | null;
  /** The server's own count of output tokens, when it reported one. */
  serverOutTokens: number | null;
  /** The server's own count of prompt tokens, when it reported one. */
  serverPromptTokens: number | null;
  /** The server's own count of thinking (reasoning) tokens, when it reported one (`completion_tokens_details.reasoning_tokens`). */
  serverReasoningTokens: number | null;
  /**
   * Prompt tokens the server found in its prefix cache, when it said (`usage.prompt_tokens_details.cached_tokens`,
   * SGLang's `meta_info.cached_tokens`, llama.cpp's `timings.cache_n`). Optional: absent = not reported.
   */
  serverCachedTokens?: number | null;
  finishReason: string | null;
  /** The answer's content as streamed, never its thinking (multi-turn conversations send it back as history). */
  text: string;
  /** The server's id of the request where its stream gives one (OpenAI: the chunks' `id`). */
  requestId?: string | null;
}

export interface Backend {
  readonly name: string;
  /** Resolves when the server answers as ready; rejects with a readable reason otherwise. */
  checkHealth(signal: AbortSignal): Promise<void>;
  /**
   * Sends one streaming request; rejects only when `signal` aborts it. A request that failed on a
   * connection the server had closed before answering goes once more on a fresh one; `send` says so.
   */
  generate(request: GenerationRequest, onTokens: TokenListener, signal: AbortSignal, onRawEvent?: RawEventListener, send?: SendState): Promise<GenerationOutcome>;
  /**
   * Opens `connections` keep-alive connections (or channels) ahead of the point's clock, at most
   * `ratePerSecond` new ones a second, so that the users' first requests find them open.
   */
  preconnect?(connections: number, options: { ratePerSecond: number; signal: AbortSignal }): Promise<void>;
  /** Releases long-lived connections (gRPC channels) so that the process can exit; HTTP backends have none. */
  close?(): void;
  /**
   * The server's own load gauges and counters from its Prometheus /metrics, under common names
   * (whichever server it is: server-metrics.ts); null when the server has no such endpoint or none
   * of the known names. Absent for protocols without one.
   */
  readGauges?(signal: AbortSignal): Promise<ServerGauges | null>;
}

/** Server-side gauges, named the same for every server. */
export interface ServerGauges {
  /** Requests the server is generating for. */
  running?: number;
  /** Requests queued in the server. */
  waiting?: number;
  /** Fraction of the KV cache in use, 0..1. */
  kv_cache_usage?: number;
  /** The server's own prefix-cache hit-rate gauge, 0..1 (servers without the token counters). */
  prefix_cache_hit_rate?: number;
  /** Counter: prompt tokens looked up in the prefix cache since the server started. */
  prefix_cache_queried_tokens?: number;
  /** Counter: of them, tokens found in the cache. */
  prefix_cache_hit_tokens?: number;
}

/** The readings that are gauges (a level now), summarised over a point's samples. */
export const GAUGE_NAMES = ["running", "waiting", "kv_cache_usage", "prefix_cache_hit_rate"] as const satisfies readonly (keyof ServerGauges)[];
/** The readings that are counters (a total since the server started): a point takes their growth. */
export const COUNTER_NAMES = ["prefix_cache_queried_tokens", "prefix_cache_hit_tokens"] as const satisfies readonly (keyof ServerGauges)[];

export interface BackendOptions {
  /** An http(s) URL, or host:port for the gRPC backend. */
  baseUrl: string;
  /** Sent where the protocol names a model; "" lets the server use its own. */
  model: string;
  /** Sent as a Bearer token; never logged or written anywhere. */
  apiKey: string | null;
  /** Accept any TLS certificate (asked for explicitly with --insecure). */
  insecure: boolean;
  /** Which ppl message set to speak (older servers use "v1"); ignored by the other backends. */
  pplProto?: "v1" | "v2";
  /** The model thinks inside `<think>…</think>` in its content (served without a reasoning parser): count that as thinking. */
  thinkTags?: boolean;
  /** Merged into every request body of the HTTP backends (--extra-body), objects field by field. */
  extraBody?: Record<string, unknown> | null;
  /** Sent with every request of the HTTP backends (--header). */
  headers?: Record<string, string>;
}

/** One entry of the registry: how to build a backend and what its flags default to. */
export interface BackendDefinition {
  name: string;
  /** How --base-url is written: an http(s) URL, or host:port without a scheme (gRPC). */
  address: "http-url" | "host-port";
  /** Where the server listens unless --base-url says otherwise; null when there is no sensible default. */
  defaultBaseUrl: string | null;
  /** The environment variable holding the API key when --api-key-env is not given; null: no key unless asked for. */
  defaultApiKeyEnv: string | null;
  create(options: BackendOptions): Backend;
}

/** The conversation as one text prompt, for protocols that take text: the messages' contents in order. */
export function promptText(messages: readonly ChatMessage[]): string {
  if (messages.length === 1) return messages[0]!.content;
  return messages.map((message) => message.content).join("\n\n");
}
