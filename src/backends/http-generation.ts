import type { Backend, BackendDefinition, BackendOptions, GenerationOutcome, GenerationRequest, RawEventListener, SendState, TokenListener } from "./backend.ts";
import { serverMetricsOf } from "./server-metrics.ts";
import { expectHttpOk } from "./transport/health.ts";
import { describeNetworkError, getText, HttpCall, type HttpAnswer } from "./transport/http.ts";
import { preconnect } from "./transport/http1-client.ts";
import { parsePrometheusText } from "./transport/prometheus.ts";
import { StreamState, type EventDecoder } from "./stream-state.ts";
import type { EventParser, EventSink } from "./transport/event-stream.ts";
import { FastSseParser } from "./transport/sse-fast.ts";

/** What an HTTP streaming backend sends every request to, and how it reads the answers: fixed for the backend. */
export interface HttpGenerationTarget {
  endpoint: URL;
  headers: Record<string, string>;
  insecure: boolean;
  /** Splits the body into events; SSE unless the protocol's framing is uncertain. */
  parser?: () => EventParser;
  decoder(state: StreamState): EventDecoder;
  /** The protocol has no end marker: a stream that closes cleanly is complete. */
  closeIsComplete?: boolean;
}

/** Sends one request (its JSON body) and measures its stream the same way for every HTTP protocol. */
export function generateOverHttp(
  target: HttpGenerationTarget,
  body: unknown,
  keepText: boolean,
  onTokens: TokenListener,
  signal: AbortSignal,
  onRawEvent?: RawEventListener,
  send?: SendState,
): Promise<GenerationOutcome> {
  return new Promise((resolve, reject) => new GenerationCall(target, JSON.stringify(body), keepText, onTokens, signal, onRawEvent, send, resolve, reject).start());
}

/**
 * One streamed generation: the HTTP call, its event parser and decoder, and the outcome being
 * built, in one object with one promise (the request path holds thousands of these at once).
 */
class GenerationCall extends HttpCall implements EventSink {
  private readonly state: StreamState;
  private readonly decode: EventDecoder;
  private readonly parser: EventParser;
  /** When the bytes being parsed were read. */
  private readAt = 0;

  constructor(
    private readonly target: HttpGenerationTarget,
    body: string,
    keepText: boolean,
    onTokens: TokenListener,
    signal: AbortSignal,
    private readonly onRawEvent: RawEventListener | undefined,
    send: SendState | undefined,
    private readonly resolve: (outcome: GenerationOutcome) => void,
    private readonly reject: (error: unknown) => void,
  ) {
    super(target.endpoint, { method: "POST", headers: target.headers, body, signal, insecure: target.insecure, expectStream: true, send });
    this.state = new StreamState(onTokens, keepText);
    this.decode = target.decoder(this.state);
    this.parser = target.parser?.() ?? new FastSseParser();
  }

  /** A payload the parser completed from the latest read (EventSink). */
  event(payload: string): void {
    this.deliver(payload, this.readAt);
  }

  private deliver(payload: string, at: number): void {
    this.onRawEvent?.(at, payload);
    if (!this.state.over) this.decode(payload, at);
  }

  protected onData(text: string, at: number): void {
    const parser = this.parser;
    if (parser.feed) {
      this.readAt = at;
      parser.feed(text, this);
    } else for (const payload of parser.push(text)) this.deliver(payload, at);
  }

  protected onAnswer(answer: HttpAnswer): void {
    const { status, requestId } = answer;
    try {
      if (answer.errorBody !== null) this.state.fail(`HTTP ${status}: ${answer.errorBody.trim().slice(0, 300)}`);
      else if (answer.notStream !== null) {
        this.state.fail(`HTTP ${status} answered with ${answer.notStream.contentType}, not an event stream: ${answer.notStream.body.trim().slice(0, 300)}`);
      } else {
        const endAt = performance.now();
        for (const payload of this.parser.flush()) this.deliver(payload, endAt);
      }
    } catch (error) {
      return this.reject(error);
    }
    this.end(requestId);
  }

  protected onFailure(error: Error): void {
    if (this.signal.aborted) return this.reject(error);
    this.state.fail(describeNetworkError(error));
    this.end(null);
  }

  private end(requestId: string | null): void {
    const state = this.state;
    // The stream's own id (OpenAI's `id`) wins; else the server's x-request-id header.
    if (state.outcome.requestId == null && requestId !== null) state.outcome.requestId = requestId;
    this.resolve(state.finish(this.target.closeIsComplete));
  }
}

/** The base URL without trailing slashes. */
export function baseOf(options: BackendOptions): string {
  return options.baseUrl.replace(/\/+$/, "");
}

/** JSON request headers, with the Bearer key when one is configured. */
export function requestHeaders(options: BackendOptions, accept = "text/event-stream"): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", accept };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

/** For servers without a health endpoint: ready when a one-token request succeeds. */
export async function checkByOneToken(
  generate: (request: GenerationRequest, onTokens: TokenListener, signal: AbortSignal) => Promise<GenerationOutcome>,
  signal: AbortSignal,
): Promise<void> {
  const outcome = await generate({ id: 0, messages: [{ role: "user", content: "Hello" }], outputLen: 1 }, () => {}, signal);
  if (outcome.error !== null) throw new Error(`a one-token request failed: ${outcome.error}`);
}

/** Everything that tells one HTTP streaming protocol from another. */
export interface HttpBackendSpec {
  name: string;
  defaultBaseUrl: string | null;
  defaultApiKeyEnv: string | null;
  /** Where requests are POSTed, after the base URL. */
  path: string;
  /** Paths answering 200 when the server is ready (the first that does wins), or a one-token request. */
  health: string[] | "one-token";
  body(request: GenerationRequest, options: BackendOptions): unknown;
  decoder(state: StreamState): EventDecoder;
  /** The decoder the fast one (`decoder`) must agree with, event for event (tests/fast-path.test.ts); absent: `decoder` is the only one. */
  referenceDecoder?(state: StreamState): EventDecoder;
  /** Splits the body into events; SSE unless the protocol's framing is uncertain. */
  parser?: () => EventParser;
  /** The protocol has no end marker: a stream that closes cleanly is complete. */
  closeIsComplete?: boolean;
}

/** Every HTTP protocol's spec by backend name, for the differential test of the fast path. */
export const HTTP_SPECS = new Map<string, HttpBackendSpec>();

/** A backend for a protocol that POSTs JSON and streams its answer back over HTTP. */
export function httpBackend(spec: HttpBackendSpec): BackendDefinition {
  HTTP_SPECS.set(spec.name, spec);
  return {
    name: spec.name,
    address: "http-url",
    defaultBaseUrl: spec.defaultBaseUrl,
    defaultApiKeyEnv: spec.defaultApiKeyEnv,
    create(options) {
      const base = baseOf(options);
      const endpoint = new URL(`${base}${spec.path}`);
      const target: HttpGenerationTarget = {
        endpoint,
        headers: { ...requestHeaders(options), ...options.headers },
        insecure: options.insecure,
        parser: spec.parser,
        decoder: spec.decoder,
        closeIsComplete: spec.closeIsComplete,
      };
      const extraBody = options.extraBody ?? null;
      const generate: Backend["generate"] = (request, onTokens, signal, onRawEvent, send) =>
        generateOverHttp(
          target,
          extraBody === null ? spec.body(request, options) : mergeBody(spec.body(request, options), extraBody),
          request.keepText !== false,
          onTokens,
          signal,
          onRawEvent,
          send,
        );
      const health = spec.health;
      const healthUrls = health === "one-token" ? [] : health.map((path) => new URL(`${base}${path}`));
      const checkHealth: Backend["checkHealth"] =
        health === "one-token"
          ? (signal) => checkByOneToken(generate, signal)
          : (signal) => expectHttpOk(healthUrls, signal, requestHeaders(options, "application/json"), options.insecure);
      // whatever server answers: its /metrics names say which it is (server-metrics.ts)
      const metricsUrl = new URL(`${base}/metrics`);
      const readGauges: Backend["readGauges"] = async (signal) => {
        const answer = await getText(metricsUrl, signal, requestHeaders(options, "text/plain"), options.insecure);
        return answer.status === 200 ? serverMetricsOf(parsePrometheusText(answer.body)) : null;
      };
      const openAhead: Backend["preconnect"] = async (connections, { ratePerSecond, signal }) => {
        const opened = await preconnect(endpoint, options.insecure, connections, ratePerSecond, signal);
        if (opened.failed > 0) throw new Error(`${opened.failed} of ${connections} connections failed: ${opened.lastError}`);
      };
      return { name: spec.name, generate, checkHealth, readGauges, preconnect: openAhead };
    },
  };
}

/** The protocol's body with the user's extra fields written in; nested objects (sampling_params, parameters) merge field by field. */
export function mergeBody(body: unknown, extra: Record<string, unknown>): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const merged: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  for (const [key, value] of Object.entries(extra)) {
    const own = merged[key];
    const bothObjects = typeof own === "object" && own !== null && !Array.isArray(own) && typeof value === "object" && value !== null && !Array.isArray(value);
    merged[key] = bothObjects ? mergeBody(own, value as Record<string, unknown>) : value;
  }
  return merged;
}
