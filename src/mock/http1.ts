import type { Socket, TCPSocketListener } from "bun";
import { streamStarterOf, type StreamWriter } from "./http-stream.ts";

/**
 * The simulator's HTTP/1.1 server, on raw TCP sockets (Bun.listen). Bun.serve sends response
 * headers only with the first body bytes and never lets a handler close or reset its connection;
 * real servers send headers at once, and close kept-alive connections when they like. Here the
 * status line and headers leave as soon as the handler answers, a stream is sent chunked, and the
 * connection's life follows a ConnectionBehaviour.
 */

/** How the server treats kept-alive connections, as one real server or another does. */
export interface ConnectionBehaviour {
  /** Close after every answer although the headers say `Connection: keep-alive` / `Keep-Alive: timeout=5, max=100` (llama-server). */
  closeAfterAnswer: boolean;
  /** Close a kept-alive connection once it has been idle this long (ms; uvicorn: 5 s); null: never. */
  idleTimeoutMs: number | null;
  /** Answer at most this many requests on one connection; the last answer says `Connection: close`. */
  maxRequests: number | null;
  /** Answer with `Connection: close` and close after every answer, as an HTTP/1.0 server does. */
  connectionClose: boolean;
}

export const KEEP_ALIVE: ConnectionBehaviour = { closeAfterAnswer: false, idleTimeoutMs: null, maxRequests: null, connectionClose: false };

/** What a handler may do to the connection itself (faults). */
export interface Exchange {
  /** Close the connection now (FIN), without an answer or after a partial one. */
  close(): void;
  /** Reset the connection now (RST). */
  reset(): void;
}

/** A Response, or null when the handler took care of the connection itself (closed, reset or left it hanging). */
export type Http1Handler = (request: Request, exchange: Exchange) => Promise<Response | null> | Response | null;

export interface Http1ServerOptions {
  hostname: string;
  port: number;
  connections: ConnectionBehaviour;
  handle: Http1Handler;
}

export interface Http1Server {
  port: number;
  stop(): Promise<void>;
}

const MAX_HEAD_BYTES = 64 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
const LAST_CHUNK = "0\r\n\r\n";

interface Connection {
  buffer: Buffer;
  /** A request is being answered: later bytes wait (pipelining) until it is done. */
  busy: boolean;
  /** Requests answered on this connection. */
  served: number;
  closed: boolean;
  /** Bytes the socket did not take yet (it drains them). */
  queue: Buffer[];
  /** Close once the queue has drained. */
  endAfterQueue: boolean;
  idleTimer: ReturnType<typeof setTimeout> | null;
  /** Aborts the request being answered when the client goes away. */
  abort: AbortController | null;
  /** The request being received asked `Expect: 100-continue` and was told to go on. */
  continued: boolean;
}

type Sock = Socket<Connection>;

export function serveHttp1(options: Http1ServerOptions): Http1Server {
  const behaviour = options.connections;
  const sockets = new Set<Sock>();

  /** Writes now, or queues what the socket did not take; `length` is the byte length when the caller knows it. */
  const write = (socket: Sock, bytes: string | Buffer, length?: number): boolean => {
    const conn = socket.data;
    if (conn.closed) return false;
    if (conn.queue.length > 0) {
      conn.queue.push(typeof bytes === "string" ? Buffer.from(bytes) : bytes);
      return true;
    }
    length ??= typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.length;
    const written = socket.write(bytes);
    if (written < length) {
      const buffer = typeof bytes === "string" ? Buffer.from(bytes) : bytes;
      conn.queue.push(buffer.subarray(Math.max(0, written)));
    }
    return true;
  };

  const end = (socket: Sock) => {
    const conn = socket.data;
    if (conn.closed) return;
    if (conn.queue.length > 0) conn.endAfterQueue = true;
    else socket.end();
  };

  const startIdleTimer = (socket: Sock) => {
    const conn = socket.data;
    if (behaviour.idleTimeoutMs === null || conn.closed) return;
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      if (!conn.busy && conn.buffer.length === 0) end(socket);
    }, behaviour.idleTimeoutMs);
  };

  /** Headers that say what happens to the connection after this answer; true when it closes. */
  const connectionHeaders = (conn: Connection, request: ParsedRequest): [string, boolean] => {
    const clientCloses = request.version === "HTTP/1.0" ? !/keep-alive/i.test(request.connection) : /close/i.test(request.connection);
    if (behaviour.connectionClose || clientCloses) return ["Connection: close\r\n", true];
    if (behaviour.closeAfterAnswer) return ["Connection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\n", true];
    const left = behaviour.maxRequests === null ? null : behaviour.maxRequests - conn.served;
    if (left !== null && left <= 1) return ["Connection: close\r\n", true];
    const params = [
      ...(behaviour.idleTimeoutMs === null ? [] : [`timeout=${Math.max(1, Math.floor(behaviour.idleTimeoutMs / 1000))}`]),
      ...(left === null ? [] : [`max=${left - 1}`]),
    ];
    return [`Connection: keep-alive\r\n${params.length > 0 ? `Keep-Alive: ${params.join(", ")}\r\n` : ""}`, false];
  };

  const finishAnswer = (socket: Sock, closes: boolean) => {
    const conn = socket.data;
    conn.served++;
    conn.busy = false;
    conn.abort = null;
    if (closes) return end(socket);
    startIdleTimer(socket);
    if (conn.buffer.length > 0) void next(socket);
  };

  const answer = async (socket: Sock, parsed: ParsedRequest) => {
    const conn = socket.data;
    const abort = new AbortController();
    conn.abort = abort;
    const request = new Request(`http://${parsed.host || "localhost"}${parsed.target}`, {
      method: parsed.method,
      headers: parsed.headers,
      body: parsed.method === "GET" || parsed.method === "HEAD" ? undefined : parsed.body,
      signal: abort.signal,
    });
    const exchange: Exchange = {
      close: () => end(socket),
      reset: () => {
        if (!conn.closed) socket.terminate();
      },
    };
    let response: Response | null;
    try {
      response = await options.handle(request, exchange);
    } catch (error) {
      response = new Response(`simulator error: ${(error as Error)?.message ?? error}`, { status: 500 });
    }
    if (conn.closed) return;
    if (response === null) {
      // The handler closed or reset the connection, or leaves it hanging until the client goes.
      conn.busy = false;
      return;
    }
    const [connection, closes] = connectionHeaders(conn, parsed);
    let head = `HTTP/1.1 ${response.status} ${statusText(response.status)}\r\n`;
    response.headers.forEach((value, name) => {
      if (!SKIPPED_HEADERS.has(name)) head += `${name}: ${value}\r\n`;
    });
    head += connection;
    const start = streamStarterOf(response);
    if (start) {
      write(socket, `${head}Transfer-Encoding: chunked\r\n\r\n`);
      let done = false;
      const writer: StreamWriter = {
        write(text) {
          if (done || conn.closed) return false;
          const bytes = Buffer.byteLength(text);
          const size = bytes.toString(16);
          return write(socket, `${size}\r\n${text}\r\n`, size.length + 4 + bytes);
        },
        close() {
          if (done) return;
          done = true;
          if (conn.closed) return;
          write(socket, LAST_CHUNK);
          finishAnswer(socket, closes);
        },
        reset: exchange.reset,
        hangUp: exchange.close,
      };
      start(writer, request);
      return;
    }
    const body = Buffer.from(await response.arrayBuffer());
    if (conn.closed) return;
    write(socket, Buffer.concat([Buffer.from(`${head}Content-Length: ${body.length}\r\n\r\n`), body]));
    finishAnswer(socket, closes);
  };

  /** Parses the next request in the buffer, if it is complete, and answers it. */
  const next = async (socket: Sock) => {
    const conn = socket.data;
    if (conn.busy || conn.closed) return;
    const parsed = parseRequest(conn.buffer);
    if (parsed === "incomplete") {
      // curl asks before sending a body over 1 KB; a real server answers at once rather than after curl's 1 s wait.
      if (!conn.continued && EXPECT_CONTINUE.test(headOf(conn.buffer))) {
        conn.continued = true;
        write(socket, "HTTP/1.1 100 Continue\r\n\r\n");
      }
      return;
    }
    conn.continued = false;
    if (parsed === "too-large" || parsed === "bad") {
      const status = parsed === "bad" ? 400 : 431;
      write(socket, `HTTP/1.1 ${status} ${statusText(status)}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      conn.buffer = Buffer.alloc(0);
      return end(socket);
    }
    conn.buffer = conn.buffer.subarray(parsed.consumed);
    conn.busy = true;
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    await answer(socket, parsed);
  };

  /** The client closed the connection, or it broke: abort what was being answered on it. */
  const gone = (socket: Sock) => {
    const conn = socket.data;
    if (!conn || conn.closed) return;
    conn.closed = true;
    sockets.delete(socket);
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.abort?.abort(new Error("the client closed the connection"));
  };

  const listener: TCPSocketListener<Connection> = Bun.listen<Connection>({
    hostname: options.hostname,
    port: options.port,
    socket: {
      open(socket) {
        socket.data = { buffer: Buffer.alloc(0), busy: false, served: 0, closed: false, queue: [], endAfterQueue: false, idleTimer: null, abort: null, continued: false };
        sockets.add(socket);
        startIdleTimer(socket);
      },
      data(socket, data) {
        const conn = socket.data;
        conn.buffer = conn.buffer.length === 0 ? Buffer.from(data) : Buffer.concat([conn.buffer, data]);
        if (conn.idleTimer) clearTimeout(conn.idleTimer);
        void next(socket);
      },
      drain(socket) {
        const conn = socket.data;
        while (conn.queue.length > 0) {
          const first = conn.queue[0]!;
          const written = socket.write(first);
          if (written < first.length) {
            conn.queue[0] = first.subarray(Math.max(0, written));
            return;
          }
          conn.queue.shift();
        }
        if (conn.endAfterQueue) socket.end();
      },
      close(socket) {
        gone(socket);
      },
      error(socket) {
        // Not every socket error is followed by a close event: forget the socket either way.
        gone(socket);
      },
    },
  });

  return {
    port: listener.port,
    async stop() {
      listener.stop(true);
      for (const socket of [...sockets]) {
        try {
          socket.terminate();
        } catch {
          // already closed
        }
        gone(socket);
      }
    },
  };
}

interface ParsedRequest {
  method: string;
  target: string;
  version: string;
  host: string;
  connection: string;
  headers: Array<[string, string]>;
  body: Buffer;
  /** Bytes of the buffer this request took. */
  consumed: number;
}

const EXPECT_CONTINUE = /\r\nexpect:\s*100-continue/i;

/** The request head at the start of `buffer` when it is complete, else "". */
function headOf(buffer: Buffer): string {
  const headEnd = buffer.indexOf(HEAD_END);
  return headEnd === -1 ? "" : buffer.toString("latin1", 0, headEnd);
}

/** The first request in `buffer`: complete, still incomplete, or one the server refuses. */
function parseRequest(buffer: Buffer): ParsedRequest | "incomplete" | "too-large" | "bad" {
  const headEnd = buffer.indexOf(HEAD_END);
  if (headEnd === -1) return buffer.length > MAX_HEAD_BYTES ? "too-large" : "incomplete";
  const lines = buffer.toString("latin1", 0, headEnd).split("\r\n");
  const [method, target, version] = lines[0]!.split(" ");
  if (!method || !target || !version?.startsWith("HTTP/1.")) return "bad";
  const headers: Array<[string, string]> = [];
  let contentLength = 0;
  let host = "";
  let connection = "";
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon <= 0) return "bad";
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower === "content-length") contentLength = Number(value);
    else if (lower === "host") host = value;
    else if (lower === "connection") connection = value;
    // Requests come with a content length (every client the simulator meets sends one).
    else if (lower === "transfer-encoding") return "bad";
    headers.push([name, value]);
  }
  if (!Number.isInteger(contentLength) || contentLength < 0) return "bad";
  const bodyStart = headEnd + HEAD_END.length;
  if (buffer.length < bodyStart + contentLength) return "incomplete";
  return {
    method, target, version, host, connection, headers,
    body: Buffer.from(buffer.subarray(bodyStart, bodyStart + contentLength)),
    consumed: bodyStart + contentLength,
  };
}

/** Set by the server itself, whatever the Response says. */
const SKIPPED_HEADERS = new Set(["content-length", "transfer-encoding", "connection", "keep-alive"]);

const STATUS_TEXT: Record<number, string> = {
  200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 408: "Request Timeout",
  422: "Unprocessable Entity", 429: "Too Many Requests", 431: "Request Header Fields Too Large",
  500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
};

function statusText(status: number): string {
  return STATUS_TEXT[status] ?? "Status";
}
