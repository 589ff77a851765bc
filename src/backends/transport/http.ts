import http from "node:http";
import https from "node:https";
import type { SendState } from "../backend.ts";

/**
 * HTTP over node:http with agents of unlimited sockets. Bun's fetch runs at most 256 requests at
 * once and queues the rest silently, which would throttle a run of 1,000 users; node:http does not.
 */
const agents = {
  http: new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 }),
  https: new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 }),
  httpsInsecure: new https.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096, rejectUnauthorized: false }),
};

export interface HttpCallOptions {
  method: "GET" | "POST";
  headers?: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  insecure?: boolean;
  /** The answer must be a stream: a 2xx JSON body is reported (as `notStream`), not streamed to onData. */
  expectStream?: boolean;
  /** Told when the request went again on a fresh connection. */
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
}

const ERROR_BODY_LIMIT = 4096;

/** The first send failed on a kept-alive connection the server had already closed, before any response byte. */
class StaleConnectionError extends Error {}

/**
 * Sends a request and streams the response body to `onData` with the time each piece arrived
 * (performance.now()). A non-2xx answer resolves with its status and (the start of) its body as
 * `errorBody`, without calling onData. Rejects on network errors and on abort (with signal.reason).
 *
 * Servers and proxies close kept-alive connections whenever they like (llama-server after every
 * streamed answer). A request written to such a socket fails at once, unseen by the server; it is
 * sent once more on a fresh connection, with `send.sentAt` moved to that send. A request that got
 * any response byte is never sent twice.
 */
export async function streamHttp(url: URL, options: HttpCallOptions, onData: (text: string, at: number) => void): Promise<HttpAnswer> {
  const isHttps = url.protocol === "https:";
  const agent = isHttps ? (options.insecure ? agents.httpsInsecure : agents.https) : agents.http;
  try {
    return await sendOnce(url, options, onData, agent);
  } catch (error) {
    if (!(error instanceof StaleConnectionError)) throw error;
    if (options.send) {
      options.send.reconnected = true;
      options.send.sentAt = performance.now();
    }
    // No agent: a connection of its own, never one from the pool (which may hold more closed ones).
    return sendOnce(url, options, onData, isHttps && options.insecure ? new https.Agent({ rejectUnauthorized: false, keepAlive: false }) : false);
  }
}

function sendOnce(url: URL, options: HttpCallOptions, onData: (text: string, at: number) => void, agent: http.Agent | false): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(options.signal.reason);
    const transport = url.protocol === "https:" ? https : http;
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));

    let settled = false;
    let responded = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      reject(error);
    };
    const succeed = (value: HttpAnswer) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      resolve(value);
    };

    const request = transport.request(url, { method: options.method, headers, agent }, (response) => {
      responded = true;
      const status = response.statusCode ?? 0;
      response.setEncoding("utf8");
      const contentType = String(response.headers["content-type"] ?? "");
      const isError = status < 200 || status >= 300;
      if (isError || (options.expectStream && /^application\/json\b/i.test(contentType))) {
        let body = "";
        response.on("data", (text: string) => {
          if (body.length < ERROR_BODY_LIMIT) body += text;
        });
        response.on("end", () => {
          body = body.slice(0, ERROR_BODY_LIMIT);
          succeed({ status, errorBody: isError ? body : null, notStream: isError ? null : { contentType, body } });
        });
      } else {
        response.on("data", (text: string) => onData(text, performance.now()));
        response.on("end", () => succeed({ status, errorBody: null, notStream: null }));
      }
      response.on("error", fail);
      response.on("aborted", () => fail(new Error("connection closed by the server mid-stream")));
    });
    const onAbort = () => {
      request.destroy();
      fail(options.signal.reason);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error) => {
      if (options.signal.aborted) return fail(options.signal.reason);
      if (!responded && request.reusedSocket && isClosedConnection(error)) return fail(new StaleConnectionError(describeNetworkError(error)));
      fail(error);
    });
    if (options.body !== undefined) request.end(options.body);
    else request.end();
  });
}

/** The errors of a socket the server closed (reset, broken pipe, or closed before any response byte). */
function isClosedConnection(error: unknown): boolean {
  const code = (error as { code?: string })?.code;
  return code === "ECONNRESET" || code === "EPIPE";
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
