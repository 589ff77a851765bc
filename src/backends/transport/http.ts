import type { SendState } from "../backend.ts";
import { HttpTransportError, StaleConnectionError, startExchange, type Http1Handlers, type Http1Head, type Http1Request, type Http1Result } from "./http1-client.ts";

export interface HttpCallOptions {
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  insecure?: boolean;
  /** The answer must be a stream: a 2xx JSON body is reported (as `notStream`), not streamed to onData. */
  expectStream?: boolean;
  /** Told when the request went again on a fresh connection, and how long connecting took. */
  send?: SendState;
}

export interface HttpResponseHead {
  status: number;
}

export interface HttpAnswer extends HttpResponseHead {
  /** A non-2xx answer's body (its start). */
  errorBody: string | null;
  /** With expectStream: a 2xx answer that is a JSON document, not a stream — its content type and body (start). */
  notStream: { contentType: string; body: string } | null;
  /** The server's `x-request-id` response header, when it sent one. */
  requestId: string | null;
}

const ERROR_BODY_LIMIT = 4096;

/**
 * One HTTP request, from its send to its answer, as one object (it is the exchange's request and
 * its handlers: nothing else is made per request, for memory at thousands of streams). A non-2xx
 * answer (or, with expectStream, a 2xx JSON document) is collected, its start only, not passed
 * to `onData`.
 *
 * Servers and proxies close kept-alive connections whenever they like (llama-server after every
 * streamed answer). A request written to such a socket fails at once, unseen by the server; it is
 * sent once more on a fresh connection, with `send.sentAt` moved to that send. A request that got
 * any response byte is never sent twice.
 */
export abstract class HttpCall implements Http1Request, Http1Handlers {
  readonly method: "GET" | "POST";
  readonly headers: Record<string, string>;
  /** Dropped once the answer began: only a resend needs it. */
  body: string | undefined;
  readonly insecure: boolean;
  readonly signal: AbortSignal;
  private readonly expectStream: boolean;
  private readonly send: SendState | undefined;
  protected readonly answer: HttpAnswer = { status: 0, errorBody: null, notStream: null, requestId: null };
  private collecting = false;
  private collected = "";
  private fresh = false;

  // the options object is not kept: it holds the body, which goes once the answer begins
  constructor(readonly url: URL, options: HttpCallOptions) {
    this.method = options.method;
    this.headers = options.headers ?? {};
    this.body = options.body;
    this.insecure = options.insecure ?? false;
    this.signal = options.signal;
    this.expectStream = options.expectStream ?? false;
    this.send = options.send;
  }

  /** Body text of a 2xx stream as it arrives, with the time of its socket read. */
  protected abstract onData(text: string, at: number): void;
  /** The answer came whole (a non-2xx one included). */
  protected abstract onAnswer(answer: HttpAnswer): void;
  /** A network error, or the signal's reason when it aborted. */
  protected abstract onFailure(error: Error): void;

  start(): void {
    startExchange(this, this, this.fresh);
  }

  onHead(head: Http1Head): void {
    this.body = undefined;
    const answer = this.answer;
    answer.status = head.status;
    answer.requestId = head.headers.get("x-request-id") ?? null;
    const isError = head.status < 200 || head.status >= 300;
    if (isError) {
      this.collecting = true;
      answer.errorBody = "";
    } else if (this.expectStream) {
      const contentType = head.headers.get("content-type") ?? "";
      if (/^application\/json\b/i.test(contentType)) {
        this.collecting = true;
        answer.notStream = { contentType, body: "" };
      }
    }
  }

  onBody(text: string, at: number): void {
    if (!this.collecting) this.onData(text, at);
    else if (this.collected.length < ERROR_BODY_LIMIT) this.collected += text;
  }

  onEnd(error: Error | null, result: Http1Result): void {
    if (error instanceof StaleConnectionError && !this.fresh) {
      const send = this.send;
      if (send) {
        send.reconnected = true;
        send.sentAt = performance.now();
      }
      // A connection of its own, never one from the pool (which may hold more closed ones).
      this.fresh = true;
      return this.start();
    }
    if (error !== null) return this.onFailure(error);
    if (this.send) this.send.connectMs = result.connectMs;
    const answer = this.answer;
    const collected = this.collected.slice(0, ERROR_BODY_LIMIT);
    if (answer.errorBody !== null) answer.errorBody = collected;
    if (answer.notStream !== null) answer.notStream.body = collected;
    this.onAnswer(answer);
  }
}

/**
 * Sends a request and streams the response body to `onData` with the time each piece arrived
 * (performance.now() at the socket read). A non-2xx answer resolves with its status and (the
 * start of) its body as `errorBody`, without calling onData. Rejects on network errors and on
 * abort (with signal.reason). Resent once on a fresh connection as HttpCall says.
 */
export function streamHttp(url: URL, options: HttpCallOptions, onData: (text: string, at: number) => void): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => new PromisedCall(url, options, onData, resolve, reject).start());
}

class PromisedCall extends HttpCall {
  constructor(
    url: URL,
    options: HttpCallOptions,
    private readonly data: (text: string, at: number) => void,
    private readonly resolve: (answer: HttpAnswer) => void,
    private readonly reject: (error: Error) => void,
  ) {
    super(url, options);
  }

  protected onData(text: string, at: number): void {
    this.data(text, at);
  }

  protected onAnswer(answer: HttpAnswer): void {
    this.resolve(answer);
  }

  protected onFailure(error: Error): void {
    this.reject(error);
  }
}

/** A short GET for health checks: status and body text. */
export async function getText(url: URL, signal: AbortSignal, headers?: Record<string, string>, insecure?: boolean): Promise<{ status: number; body: string }> {
  let body = "";
  const head = await streamHttp(url, { method: "GET", signal, headers, insecure }, (text) => {
    body += text;
  });
  return { status: head.status, body: head.errorBody ?? body };
}

/** The network error in words an engineer at 2 a.m. recognises. */
export function describeNetworkError(error: unknown): string {
  if (error instanceof HttpTransportError) return error.message;
  const e = error as { code?: string; message?: string };
  if (e?.code === "ECONNREFUSED") return "connection refused";
  // node:http's words for a connection closed (FIN) before the response began, and after it began.
  if (e?.message === "socket hang up") return "the server closed the connection before answering";
  if (e?.code === "ECONNRESET" && e.message === "aborted") return "connection closed by the server mid-stream";
  if (e?.code === "ECONNRESET") return "connection reset by the server";
  if (e?.code === "EPIPE") return "the server closed the connection while the request was sent";
  if (e?.code === "ENOTFOUND") return "host not found";
  return e?.message ?? String(error);
}
