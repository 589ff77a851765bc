import type { SendState } from "../backend.ts";
import { exchange, HttpTransportError, StaleConnectionError, type Http1Head } from "./http1-client.ts";

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
 * Sends a request and streams the response body to `onData` with the time each piece arrived
 * (performance.now() at the socket read). A non-2xx answer resolves with its status and (the
 * start of) its body as `errorBody`, without calling onData. Rejects on network errors and on
 * abort (with signal.reason).
 *
 * Servers and proxies close kept-alive connections whenever they like (llama-server after every
 * streamed answer). A request written to such a socket fails at once, unseen by the server; it is
 * sent once more on a fresh connection, with `send.sentAt` moved to that send. A request that got
 * any response byte is never sent twice.
 */
export async function streamHttp(url: URL, options: HttpCallOptions, onData: (text: string, at: number) => void): Promise<HttpAnswer> {
  try {
    return await sendOnce(url, options, onData, false);
  } catch (error) {
    if (!(error instanceof StaleConnectionError)) throw error;
    if (options.send) {
      options.send.reconnected = true;
      options.send.sentAt = performance.now();
    }
    // A connection of its own, never one from the pool (which may hold more closed ones).
    return sendOnce(url, options, onData, true);
  }
}

async function sendOnce(url: URL, options: HttpCallOptions, onData: (text: string, at: number) => void, fresh: boolean): Promise<HttpAnswer> {
  const answer: HttpAnswer = { status: 0, errorBody: null, notStream: null, requestId: null };
  let collect: ((text: string) => void) | null = null;
  let collected = "";
  let contentType = "";
  const result = await exchange(
    { method: options.method, url, headers: options.headers ?? {}, body: options.body, insecure: options.insecure ?? false, signal: options.signal },
    {
      onHead(head: Http1Head) {
        answer.status = head.status;
        answer.requestId = head.headers.get("x-request-id") ?? null;
        contentType = head.headers.get("content-type") ?? "";
        const isError = head.status < 200 || head.status >= 300;
        if (isError || (options.expectStream && /^application\/json\b/i.test(contentType))) {
          collect = (text) => {
            if (collected.length < ERROR_BODY_LIMIT) collected += text;
          };
          if (isError) answer.errorBody = "";
          else answer.notStream = { contentType, body: "" };
        }
      },
      onBody(text, at) {
        if (collect !== null) collect(text);
        else onData(text, at);
      },
    },
    fresh,
  );
  if (options.send) options.send.connectMs = result.connectMs;
  collected = collected.slice(0, ERROR_BODY_LIMIT);
  if (answer.errorBody !== null) answer.errorBody = collected;
  if (answer.notStream !== null) answer.notStream.body = collected;
  return answer;
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
