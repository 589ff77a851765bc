import type { Socket } from "bun";

/**
 * A lean HTTP/1.1 client on Bun's native sockets (Bun.connect): keep-alive connections pooled per
 * origin, request written in one piece, response head parsed once, body read as it comes
 * (chunked, content-length, or until close) and handed on with the time of the socket read.
 * Bun's fetch runs at most 256 requests at once; node:http's compatibility layers cost several
 * times the CPU per streamed token. This is the per-token path: nothing in it allocates per
 * token beyond the decoded text.
 */

/** A transport failure, in words an engineer recognises; `code` as node's errors have it. */
export class HttpTransportError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
  }
}

export interface Http1Request {
  method: "GET" | "POST";
  url: URL;
  headers: Record<string, string>;
  body?: string;
  insecure: boolean;
  signal: AbortSignal;
}

export interface Http1Head {
  status: number;
  headers: Map<string, string>;
}

export interface Http1Handlers {
  /** The response head. */
  onHead(head: Http1Head): void;
  /** Body text as it arrives, with performance.now() at the socket read. */
  onBody(text: string, at: number): void;
  /**
   * The exchange is over, once: `error` null when the response came whole; else a transport error
   * (StaleConnectionError when a kept-alive connection turned out closed before any response
   * byte), or the signal's reason when it aborted.
   */
  onEnd(error: Error | null, result: Http1Result): void;
}

export interface Http1Result {
  /** The request went on a connection that had answered before. */
  reused: boolean;
  /** ms spent opening a fresh connection (TCP, TLS) for this request; null when it went on a kept-alive one. */
  connectMs: number | null;
}

/** The request went on a kept-alive connection the server had closed, and no response byte came: safe to send again. */
export class StaleConnectionError extends HttpTransportError {}

const enum Body {
  Head,
  Chunked,
  Length,
  UntilClose,
  Done,
}
const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
}

const MAX_HEAD_BYTES = 64 * 1024;

/**
 * One request and its response on a connection: the parser's state, and the request's abort
 * listener (one object per request: no closure, promise or async frame of its own, for memory at
 * thousands of streams).
 */
class Exchange implements Http1Result {
  body = Body.Head;
  head = "";
  /** Any response byte arrived. */
  responded = false;
  chunkState = Chunk.Size;
  sizeLine = "";
  remaining = 0;
  keepAlive = true;
  /** The first bytes of a UTF-8 character the last read cut in two. */
  carry: Buffer | null = null;
  connection: Connection | null = null;

  constructor(readonly handlers: Http1Handlers, readonly signal: AbortSignal, readonly reused: boolean, readonly connectMs: number | null) {}

  /** The signal aborted: the connection is dropped mid-exchange. */
  handleEvent(): void {
    const connection = this.connection;
    if (connection === null || connection.data.exchange !== this) return;
    connection.data.exchange = null;
    connection.data.closed = true;
    connection.terminate();
    this.settle(this.signal.reason as Error);
  }

  settle(error: Error | null): void {
    this.signal.removeEventListener("abort", this);
    this.handlers.onEnd(error !== null && this.signal.aborted ? (this.signal.reason as Error) : error, this);
  }
}

interface ConnectionState {
  pool: OriginPool;
  exchange: Exchange | null;
  answered: number;
  closed: boolean;
  /** Bytes not yet taken by the socket. */
  pending: Buffer | null;
  /** Taken from the pool of idle connections (kept alive, or opened ahead): the server may have closed it meanwhile. */
  fromPool: boolean;
  /** TLS: told when the handshake is over (a refused certificate rejects the connect). */
  handshake: { resolve(): void; reject(error: Error): void } | null;
}

type Connection = Socket<ConnectionState>;

/**
 * Buffer's own slice decoders, which toString(encoding, start, end) calls after checking its
 * arguments: in Bun 1.4.5 that call costs ~5 times as much (500 ns against 100 for a 250-byte event).
 */
interface SliceDecoders {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}
function utf8Of(data: Buffer, start: number, end: number): string {
  return (data as unknown as SliceDecoders).utf8Slice(start, end);
}
function latin1Of(data: Buffer, start: number, end: number): string {
  return (data as unknown as SliceDecoders).latin1Slice(start, end);
}

/**
 * The body bytes [start, end) as text. A UTF-8 character cut by the end of a read (or a chunk)
 * waits, as its first bytes, for the rest. Decoding a slice of the read (toString with bounds)
 * makes no view object: `subarray` and TextDecoder cost more than the rest of the path together.
 */
function textOf(exchange: Exchange, data: Buffer, start: number, end: number): string {
  if (start >= end) return "";
  if (exchange.carry !== null) {
    const joined = Buffer.concat([exchange.carry, data.subarray(start, end)]);
    exchange.carry = null;
    return textOf(exchange, joined, 0, joined.length);
  }
  const cut = data[end - 1]! >= 0x80 ? end - incompleteTail(data, start, end) : end;
  if (cut < end) exchange.carry = Buffer.from(data.subarray(cut, end));
  return cut > start ? utf8Of(data, start, cut) : "";
}

/** How many bytes at the end of [start, end) begin a UTF-8 character that is not complete there. */
function incompleteTail(data: Uint8Array, start: number, end: number): number {
  for (let back = 1; back <= 3 && end - back >= start; back++) {
    const byte = data[end - back]!;
    if (byte < 0x80) return 0;
    if (byte >= 0xc0) {
      const size = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
      return size > back ? back : 0;
    }
  }
  return 0;
}

/** A response head's status and headers (names lower-cased). */
function parseHead(text: string): Http1Head & { version: string } {
  const lines = text.split("\r\n");
  const statusLine = lines[0]!;
  const match = /^HTTP\/(\d\.\d) (\d{3})/.exec(statusLine);
  if (match === null) throw new HttpTransportError(`not an HTTP response: ${statusLine.slice(0, 80)}`, "EPROTO");
  const headers = new Map<string, string>();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    const had = headers.get(name);
    headers.set(name, had === undefined ? value : `${had}, ${value}`);
  }
  return { version: match[1]!, status: Number(match[2]), headers };
}

/**
 * Reads waiting to be parsed, in arrival order: socket, bytes, time of the read. One wake-up of
 * the event loop reads every ready socket (200 streams on one server tick are 200 reads); parsing
 * each at once would date the k-th read after the parsing of k − 1 others, and that wait would
 * land in its inter-token latency. So a read is only timed and queued, and the queue parsed once
 * every socket of the wake-up was read (setImmediate runs after them). Each read's bytes are its
 * own (Bun copies them out of the socket's buffer).
 */
const reads: Array<Connection | Buffer | number> = [];
let parsed = 0;
let parseScheduled = false;
let queuedBytes = 0;
/**
 * A wake-up of a client that fell behind reads many KB from each of thousands of sockets: the
 * queue is parsed whenever it holds this much, so that it never holds more (200 streams' one
 * event each is ~60 KB; 1,000 streams' ~300 KB).
 */
const MAX_QUEUED_BYTES = 512 * 1024;

function onData(socket: Connection, data: Buffer): void {
  reads.push(socket, data, performance.now());
  queuedBytes += data.length;
  if (queuedBytes >= MAX_QUEUED_BYTES) parseReads();
  else if (!parseScheduled) {
    parseScheduled = true;
    setImmediate(parseReads);
  }
}

let parsing = false;

/**
 * Parses every queued read in order; also called before a close is handled (a close follows its
 * socket's reads). Not again from inside a parse: a close the parse itself caused (an answer that
 * ends its connection, an abort) must not parse a later read before the current one is done.
 */
function parseReads(): void {
  parseScheduled = false;
  if (parsing) return;
  parsing = true;
  try {
    while (parsed < reads.length) {
      const at = parsed;
      parsed += 3;
      parseRead(reads[at] as Connection, reads[at + 1] as Buffer, reads[at + 2] as number);
    }
  } finally {
    reads.length = 0;
    parsed = 0;
    queuedBytes = 0;
    parsing = false;
  }
}

function parseRead(socket: Connection, data: Buffer, at: number): void {
  const state = socket.data;
  const exchange = state.exchange;
  if (exchange === null) {
    // Bytes nobody asked for: the connection is out of step, never reuse it.
    state.closed = true;
    socket.end();
    return;
  }
  exchange.responded = true;
  try {
    read(socket, exchange, data, at);
  } catch (error) {
    finish(socket, exchange, error as Error, false);
  }
}

/** Advances the response parser over one socket read. */
function read(socket: Connection, exchange: Exchange, data: Buffer, at: number): void {
  let i = 0;
  const length = data.length;
  if (exchange.body === Body.Head) {
    exchange.head += latin1Of(data, 0, length);
    let end: number;
    for (;;) {
      end = exchange.head.indexOf("\r\n\r\n");
      if (end === -1) {
        if (exchange.head.length > MAX_HEAD_BYTES) throw new HttpTransportError("response head too large", "EPROTO");
        return;
      }
      const parsed = parseHead(exchange.head.slice(0, end));
      if (parsed.status >= 100 && parsed.status < 200) {
        exchange.head = exchange.head.slice(end + 4); // 100 Continue and other interim answers
        continue;
      }
      // What of this read follows the head (the head was latin1: one char per byte).
      i = length - (exchange.head.length - (end + 4));
      exchange.head = "";
      const connection = parsed.headers.get("connection")?.toLowerCase() ?? "";
      exchange.keepAlive = parsed.version === "1.0" ? connection.includes("keep-alive") : !connection.includes("close");
      const encoding = parsed.headers.get("transfer-encoding")?.toLowerCase() ?? "";
      const contentLength = parsed.headers.get("content-length");
      if (encoding.includes("chunked")) exchange.body = Body.Chunked;
      else if (contentLength !== undefined) {
        exchange.remaining = Number(contentLength);
        exchange.body = Body.Length;
      } else {
        exchange.body = Body.UntilClose;
        exchange.keepAlive = false;
      }
      exchange.handlers.onHead(parsed);
      if (exchange.body === Body.Length && exchange.remaining === 0) return finish(socket, exchange, null, i === length);
      break;
    }
  }
  switch (exchange.body) {
    case Body.Length: {
      const take = Math.min(exchange.remaining, length - i);
      if (take > 0) exchange.handlers.onBody(textOf(exchange, data, i, i + take), at);
      exchange.remaining -= take;
      if (exchange.remaining === 0) finish(socket, exchange, null, i + take === length);
      return;
    }
    case Body.UntilClose:
      if (i < length) exchange.handlers.onBody(textOf(exchange, data, i, length), at);
      return;
    case Body.Chunked:
      return readChunked(socket, exchange, data, i, at);
  }
}

/** A hexadecimal digit's value; -1 for any other byte. */
function hexValue(byte: number): number {
  if (byte >= 48 && byte <= 57) return byte - 48;
  const lower = byte | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}

/**
 * Each chunk's data goes to onBody as it is read (a read under load holds several chunks: no
 * joined string for them). A size line of bare hex digits and CRLF, whole in the read, is taken
 * from the bytes; any other (an extension, a line cut by the read) as text, by the same rules.
 */
function readChunked(socket: Connection, exchange: Exchange, data: Buffer, i: number, at: number): void {
  const length = data.length;
  while (i < length) {
    switch (exchange.chunkState) {
      case Chunk.Size: {
        if (exchange.sizeLine.length === 0) {
          let size = 0;
          let j = i;
          for (let digit: number; j < length && j - i < 8 && (digit = hexValue(data[j]!)) !== -1; j++) size = size * 16 + digit;
          if (j > i && j + 1 < length && data[j] === 13 && data[j + 1] === 10) {
            i = j + 2;
            exchange.remaining = size;
            exchange.chunkState = size === 0 ? Chunk.Trailer : Chunk.Data;
            break;
          }
        }
        const newline = data.indexOf(10, i);
        if (newline === -1) {
          exchange.sizeLine += latin1Of(data, i, length);
          i = length;
          break;
        }
        const line = exchange.sizeLine + latin1Of(data, i, newline);
        exchange.sizeLine = "";
        i = newline + 1;
        const size = parseInt(line, 16); // stops at ";ext" and "\r"
        if (!Number.isFinite(size) || size < 0) throw new HttpTransportError("malformed chunked body: a chunk size line is not hexadecimal", "EPROTO"); // one reason for all: the failure summary groups by it
        exchange.remaining = size;
        exchange.chunkState = size === 0 ? Chunk.Trailer : Chunk.Data;
        break;
      }
      case Chunk.Data: {
        const take = Math.min(exchange.remaining, length - i);
        const text = textOf(exchange, data, i, i + take);
        if (text.length > 0) exchange.handlers.onBody(text, at);
        exchange.remaining -= take;
        i += take;
        if (exchange.remaining === 0) {
          exchange.chunkState = Chunk.DataEnd;
          exchange.remaining = 2;
        }
        break;
      }
      case Chunk.DataEnd: {
        const take = Math.min(exchange.remaining, length - i);
        exchange.remaining -= take;
        i += take;
        if (exchange.remaining === 0) exchange.chunkState = Chunk.Size;
        break;
      }
      case Chunk.Trailer: {
        const newline = data.indexOf(10, i);
        if (newline === -1) {
          exchange.sizeLine += latin1Of(data, i, length);
          i = length;
          break;
        }
        const line = exchange.sizeLine + latin1Of(data, i, newline);
        exchange.sizeLine = "";
        i = newline + 1;
        if (line === "" || line === "\r") return finish(socket, exchange, null, i === length);
        break;
      }
    }
  }
}

/** The exchange is over: settle it, and give the connection back when it can carry another request. */
function finish(socket: Connection, exchange: Exchange, error: Error | null, clean: boolean): void {
  const state = socket.data;
  if (state.exchange !== exchange) return;
  state.exchange = null;
  exchange.body = Body.Done;
  if (error === null) {
    state.answered++;
    if (exchange.carry !== null) {
      // a cut character the stream never completed: what a decoder makes of it
      exchange.handlers.onBody(exchange.carry.toString("utf8"), performance.now());
      exchange.carry = null;
    }
  }
  if (error === null && clean && exchange.keepAlive && !state.closed) state.pool.release(socket);
  else {
    state.closed = true;
    socket.end();
  }
  exchange.settle(error);
}

function onClose(socket: Connection, error?: Error): void {
  parseReads();
  const state = socket.data;
  if (!state) return;
  state.closed = true;
  if (state.handshake !== null) {
    state.handshake.reject(new HttpTransportError(`TLS handshake failed: ${error?.message ?? "the server closed the connection"}`, "ETLS"));
    state.handshake = null;
  }
  state.pool.forget(socket);
  const exchange = state.exchange;
  if (exchange === null) return;
  if (exchange.body === Body.UntilClose) return finish(socket, exchange, null, false);
  finish(socket, exchange, closedError(exchange, state, error), false);
}

/** What a connection closed under a request means. */
function closedError(exchange: Exchange, state: ConnectionState, error?: Error): Error {
  const reset = (error as { code?: string } | undefined)?.code === "ECONNRESET" || /reset/i.test(error?.message ?? "");
  if (!exchange.responded) {
    if (state.fromPool) return new StaleConnectionError(reset ? "connection reset by the server" : "the server closed the connection before answering", reset ? "ECONNRESET" : "ECONNCLOSED");
    return reset ? new HttpTransportError("connection reset by the server", "ECONNRESET") : new HttpTransportError("the server closed the connection before answering", "ECONNCLOSED");
  }
  return reset ? new HttpTransportError("connection reset by the server", "ECONNRESET") : new HttpTransportError("connection closed by the server mid-stream", "ECONNCLOSED");
}

const handlers = {
  data: onData,
  close: onClose,
  end(socket: Connection) {
    socket.end();
  },
  error(socket: Connection, error: Error) {
    onClose(socket, error);
  },
  drain(socket: Connection) {
    const state = socket.data;
    if (state.pending === null) return;
    const rest = state.pending;
    state.pending = null;
    write(socket, rest);
  },
  connectError() {
    // the promise of Bun.connect rejects with the error
  },
  handshake(socket: Connection, success: boolean, authorizationError: Error | null) {
    const waiting = socket.data.handshake;
    socket.data.handshake = null;
    // --insecure: any certificate will do (Bun reports it unauthorized, with why)
    if (success || socket.data.pool.tls === false || !socket.data.pool.tls.rejectUnauthorized) return waiting?.resolve();
    socket.data.closed = true;
    waiting?.reject(new HttpTransportError(`TLS: ${authorizationError?.message ?? "handshake failed"} (--insecure accepts any certificate)`, "ETLS"));
    socket.end();
  },
};

/** Writes a request; what the socket does not take now goes when it drains (write() counts bytes of UTF-8). */
function write(socket: Connection, text: string | Buffer): void {
  const state = socket.data;
  if (state.pending !== null) {
    state.pending = Buffer.concat([state.pending, typeof text === "string" ? Buffer.from(text) : text]);
    return;
  }
  const wrote = socket.write(text);
  const bytes = typeof text === "string" ? Buffer.byteLength(text) : text.length;
  if (wrote >= 0 && wrote < bytes) state.pending = (typeof text === "string" ? Buffer.from(text) : text).subarray(wrote);
}

/** Idle kept-alive connections of one origin (scheme, host, port, TLS verification). */
class OriginPool {
  private readonly idle: Connection[] = [];

  constructor(private readonly hostname: string, private readonly port: number, readonly tls: false | { rejectUnauthorized: boolean; serverName: string }) {}

  take(): Connection | null {
    for (;;) {
      const socket = this.idle.pop();
      if (socket === undefined) return null;
      if (!socket.data.closed) {
        socket.data.fromPool = true;
        socket.ref();
        return socket;
      }
    }
  }

  /** An idle connection keeps no process alive (as node's agents have it). */
  release(socket: Connection): void {
    socket.unref();
    this.idle.push(socket);
  }

  forget(socket: Connection): void {
    const at = this.idle.indexOf(socket);
    if (at !== -1) this.idle.splice(at, 1);
  }

  get idleCount(): number {
    return this.idle.length;
  }

  async open(): Promise<Connection> {
    const data: ConnectionState = { pool: this, exchange: null, answered: 0, closed: false, pending: null, fromPool: false, handshake: null };
    const handshake = this.tls ? new Promise<void>((resolve, reject) => (data.handshake = { resolve, reject })) : null;
    handshake?.catch(() => {}); // it may settle before it is awaited below
    let socket: Connection;
    try {
      socket = (await Bun.connect<ConnectionState>({
        hostname: this.hostname,
        port: this.port,
        data,
        socket: handlers,
        ...(this.tls ? { tls: this.tls } : {}),
      })) as Connection;
    } catch (error) {
      throw connectFailure(error);
    }
    if (handshake !== null) await handshake;
    return socket;
  }
}

function connectFailure(error: unknown): Error {
  const e = error as { code?: string; message?: string };
  const code = e?.code ?? "";
  if (code === "ECONNREFUSED" || /refused/i.test(e?.message ?? "")) return new HttpTransportError("connection refused", "ECONNREFUSED");
  if (code === "ENOTFOUND" || code === "DNS_ENOTFOUND" || /getaddrinfo|not found|ENOTFOUND/i.test(e?.message ?? "")) return new HttpTransportError("host not found", "ENOTFOUND");
  if (code === "ECONNRESET") return new HttpTransportError("connection reset by the server", "ECONNRESET");
  return error instanceof Error ? error : new Error(String(error));
}

const pools = new Map<string, OriginPool>();

function poolOf(url: URL, insecure: boolean): OriginPool {
  const https = url.protocol === "https:";
  const key = `${url.protocol}//${url.host}${https && insecure ? "#insecure" : ""}`;
  let pool = pools.get(key);
  if (pool === undefined) {
    const hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
    pool = new OriginPool(hostname, port, https ? { rejectUnauthorized: !insecure, serverName: hostname } : false);
    pools.set(key, pool);
  }
  return pool;
}

/**
 * Opens `count` connections to the origin of `url` and keeps them idle in its pool, at most
 * `ratePerSecond` new connections a second (a burst beyond the server's accept queue turns into
 * SYN retries of 1, 3, 7 s). Returns each connection's connect time (ms); failures are counted
 * in `failed`, not thrown, unless the signal aborts.
 */
export async function preconnect(url: URL, insecure: boolean, count: number, ratePerSecond: number, signal: AbortSignal): Promise<{ connectMs: number[]; failed: number; lastError: string | null }> {
  const pool = poolOf(url, insecure);
  // Connections left idle by an earlier point count; one more for the GETs beside the users (gauges).
  const need = Math.max(0, count + 1 - pool.idleCount);
  const connectMs: number[] = [];
  let failed = 0;
  let lastError: string | null = null;
  const started = performance.now();
  const opening: Promise<void>[] = [];
  for (let n = 0; n < need; n++) {
    if (signal.aborted) break;
    const due = started + (n * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await Bun.sleep(wait);
    const at = performance.now();
    opening.push(
      pool.open().then(
        (socket) => {
          connectMs.push(performance.now() - at);
          pool.release(socket);
        },
        (error: Error) => {
          failed++;
          lastError = error.message;
        },
      ),
    );
  }
  await Promise.all(opening);
  if (signal.aborted) throw signal.reason;
  return { connectMs, failed, lastError };
}

/**
 * Sends one request and reads its response; `handlers.onEnd` says how it ended (never before this
 * returns). `fresh` skips the pool.
 */
export function startExchange(request: Http1Request, handlers: Http1Handlers, fresh = false): void {
  const { signal } = request;
  if (signal.aborted) return void queueMicrotask(() => handlers.onEnd(signal.reason as Error, NOT_SENT));
  const pool = poolOf(request.url, request.insecure);
  const socket = fresh ? null : pool.take();
  if (socket !== null) return writeExchange(socket, request, new Exchange(handlers, signal, true, null));
  const started = performance.now();
  untilAborted(pool.open(), signal).then(
    (opened) => writeExchange(opened, request, new Exchange(handlers, signal, false, performance.now() - started)),
    (error: Error) => handlers.onEnd(signal.aborted ? (signal.reason as Error) : error, NOT_SENT),
  );
}

const NOT_SENT: Http1Result = { reused: false, connectMs: null };

function writeExchange(connection: Connection, request: Http1Request, ongoing: Exchange): void {
  ongoing.connection = connection;
  connection.data.exchange = ongoing;
  request.signal.addEventListener("abort", ongoing, { once: true });
  try {
    write(connection, headOf(request) + (request.body ?? ""));
  } catch (error) {
    connection.data.exchange = null;
    connection.data.closed = true;
    connection.end();
    queueMicrotask(() => ongoing.settle(error as Error));
  }
}

/** The connection, or the signal's reason as soon as it aborts (a connect to a silent host takes minutes of SYN retries); a connection that opens later is closed. */
function untilAborted(opening: Promise<Connection>, signal: AbortSignal): Promise<Connection> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    opening.then(
      (socket) => {
        signal.removeEventListener("abort", onAbort);
        if (signal.aborted) {
          socket.end();
          return reject(signal.reason);
        }
        resolve(socket);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

function headOf(request: Http1Request): string {
  const url = request.url;
  let head = `${request.method} ${url.pathname}${url.search} HTTP/1.1\r\n`;
  let hasHost = false;
  for (const name in request.headers) {
    const lower = name.toLowerCase();
    if (lower === "host") hasHost = true;
    if (lower === "content-length" || lower === "connection" || lower === "transfer-encoding") continue;
    head += `${name}: ${request.headers[name]}\r\n`;
  }
  if (!hasHost) head += `host: ${url.host}\r\n`;
  if (request.body !== undefined) head += `content-length: ${Buffer.byteLength(request.body)}\r\n`;
  return `${head}connection: keep-alive\r\n\r\n`;
}
