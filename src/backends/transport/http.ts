import http from "node:http";
import https from "node:https";

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
}

export interface HttpResponseHead {
  status: number;
}

const ERROR_BODY_LIMIT = 4096;

/**
 * Sends a request and streams the response body to `onData` with the time each piece arrived
 * (performance.now()). A non-2xx answer resolves with its status and (the start of) its body as
 * `errorBody`, without calling onData. Rejects on network errors and on abort (with signal.reason).
 */
export function streamHttp(
  url: URL,
  options: HttpCallOptions,
  onData: (text: string, at: number) => void,
): Promise<HttpResponseHead & { errorBody: string | null }> {
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) return reject(options.signal.reason);
    const isHttps = url.protocol === "https:";
    const transport = isHttps ? https : http;
    const agent = isHttps ? (options.insecure ? agents.httpsInsecure : agents.https) : agents.http;
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers["content-length"] = String(Buffer.byteLength(options.body));

    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      reject(error);
    };
    const succeed = (value: HttpResponseHead & { errorBody: string | null }) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener("abort", onAbort);
      resolve(value);
    };

    const request = transport.request(url, { method: options.method, headers, agent }, (response) => {
      const status = response.statusCode ?? 0;
      response.setEncoding("utf8");
      if (status < 200 || status >= 300) {
        let errorBody = "";
        response.on("data", (text: string) => {
          if (errorBody.length < ERROR_BODY_LIMIT) errorBody += text;
        });
        response.on("end", () => succeed({ status, errorBody: errorBody.slice(0, ERROR_BODY_LIMIT) }));
      } else {
        response.on("data", (text: string) => onData(text, performance.now()));
        response.on("end", () => succeed({ status, errorBody: null }));
      }
      response.on("error", fail);
      response.on("aborted", () => fail(new Error("connection closed by the server mid-stream")));
    });
    const onAbort = () => {
      request.destroy();
      fail(options.signal.reason);
    };
    options.signal.addEventListener("abort", onAbort, { once: true });
    request.on("error", (error) => fail(options.signal.aborted ? options.signal.reason : error));
    if (options.body !== undefined) request.end(options.body);
    else request.end();
  });
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
  if (e?.code === "ECONNRESET") return "connection reset by the server";
  if (e?.code === "ENOTFOUND") return "host not found";
  return e?.message ?? String(error);
}
