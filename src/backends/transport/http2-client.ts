import type { Socket } from "bun";
import { encodeHeaderBlock, HpackDecoder, HpackError } from "./http2-hpack.ts";

/**
 * A lean HTTP/2 client (RFC 9113) over plain TCP on Bun.connect, for gRPC's server-streaming
 * calls: one connection, many streams; frames read straight from the socket's chunks, DATA
 * handed to its stream in place (no copy, no event emitter) with the arrival time of the chunk
 * that completed it. The receive windows are opened wide once (2^31 − 1) so that the server never
 * waits for a WINDOW_UPDATE and we send one only per GiB; request bodies respect the server's windows.
 * Server push is refused (SETTINGS_ENABLE_PUSH = 0); priorities are ignored.
 */

export const H2_NO_ERROR = 0;
export const H2_PROTOCOL_ERROR = 1;
export const H2_INTERNAL_ERROR = 2;
export const H2_FLOW_CONTROL_ERROR = 3;
export const H2_FRAME_SIZE_ERROR = 6;
export const H2_REFUSED_STREAM = 7;
export const H2_CANCEL = 8;
export const H2_COMPRESSION_ERROR = 9;

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PUSH_PROMISE = 0x5;
const PING = 0x6;
const GOAWAY = 0x7;
const WINDOW_UPDATE = 0x8;
const CONTINUATION = 0x9;

const END_STREAM = 0x1;
const ACK = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PRIORITY = 0x20;

const MAX_WINDOW = 0x7fffffff;
const DEFAULT_WINDOW = 65_535;
/** Our SETTINGS_MAX_FRAME_SIZE: the default (the server's DATA frames carry small messages). */
const MAX_FRAME = 16_384;
/** A receive window is topped up when this much of it was used. */
const WINDOW_REFILL = 1 << 30;

const PREFACE = new TextEncoder().encode("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

/** How a stream ended, for its handler to name the failure. */
export interface StreamEnd {
  /** The stream's reset code: 0 when it ended normally (END_STREAM both ways), else RST_STREAM's or ours. */
  rstCode: number;
  /** The connection went away under the stream (socket closed or failed, or a GOAWAY that did not cover it). */
  dropped: boolean;
  /** A GOAWAY said the server never processed this stream: safe to send again. */
  refused: boolean;
}

export interface StreamHandler {
  /** A complete header block: the response headers, or the trailers; `endStream` when the stream ends with it. */
  onHeaders(fields: ReadonlyArray<[string, string]>, endStream: boolean): void;
  /** Bytes [start, end) of `buf` are the stream's; valid only during the call. `at`: performance.now() at socket read. */
  onData(buf: Uint8Array, start: number, end: number, at: number): void;
  /** Called once, last. */
  onClose(end: StreamEnd): void;
}

export class Http2Stream {
  /** What remains of the request body to send, and from where. */
  body: Uint8Array | null;
  bodyOffset = 0;
  sendWindow: number;
  received = 0;
  closed = false;
  /** The server ended its side (END_STREAM seen). */
  remoteEnded = false;

  constructor(
    readonly session: Http2Session,
    public id: number,
    readonly headerBlock: Uint8Array,
    body: Uint8Array,
    readonly handler: StreamHandler,
  ) {
    this.body = body;
    this.sendWindow = session.peerInitialWindow;
  }

  /** Resets the stream (RST_STREAM CANCEL); its handler hears onClose with that code. */
  cancel(code = H2_CANCEL): void {
    this.session.reset(this, code);
  }
}

export type SessionState = "connecting" | "up" | "closed";

/**
 * One HTTP/2 connection. `state` goes connecting → up (the server's SETTINGS arrived) → closed;
 * `error` says why it failed, `dropped` whether it went away rather than being closed by us,
 * `goingAway` whether the server sent GOAWAY (no new streams on it then).
 */
export class Http2Session {
  state: SessionState = "connecting";
  /** It came up once (it may have closed since). */
  wasUp = false;
  error: Error | null = null;
  dropped = false;
  goingAway = false;
  peerInitialWindow = DEFAULT_WINDOW;
  private peerMaxFrame = 16_384;
  private peerMaxStreams = Infinity;
  private connectionSendWindow = DEFAULT_WINDOW;
  private connectionReceived = 0;
  private socket: Socket<undefined> | null = null;
  private readonly streams = new Map<number, Http2Stream>();
  /** Streams waiting for the server's MAX_CONCURRENT_STREAMS (not yet given an id) or for send window. */
  private readonly waitingToOpen: Http2Stream[] = [];
  private readonly waitingToSend = new Set<Http2Stream>();
  private nextStreamId = 1;
  private readonly decoder = new HpackDecoder();
  /** Output not yet taken by the socket. */
  private outbox: Uint8Array[] = [];
  /** Bytes of an incomplete frame from the previous chunk. */
  private pending: Uint8Array | null = null;
  /** A header block split over HEADERS + CONTINUATION. */
  private headerParts: Uint8Array[] | null = null;
  private headerStreamId = 0;
  private headerEndStream = false;
  private readonly upListeners: Array<(error: Error | null) => void> = [];
  /** Told when the session closes or gets a GOAWAY: the channel then opens a fresh one for new calls. */
  onGone: (() => void) | null = null;

  constructor(host: string, port: number) {
    Bun.connect({
      hostname: host,
      port,
      socket: {
        open: (socket) => {
          this.socket = socket;
          socket.setNoDelay(true);
          if (this.state === "closed") return void socket.end();
          const settings = frameHeader(18, SETTINGS, 0, 0);
          const body = new Uint8Array(settings.buffer, 9);
          writeSetting(body, 0, 0x2, 0); // ENABLE_PUSH
          writeSetting(body, 6, 0x4, MAX_WINDOW); // INITIAL_WINDOW_SIZE
          writeSetting(body, 12, 0x5, MAX_FRAME); // MAX_FRAME_SIZE
          this.send(PREFACE, settings, windowUpdate(0, MAX_WINDOW - DEFAULT_WINDOW));
        },
        data: (_socket, chunk) => this.receive(chunk, performance.now()),
        drain: () => this.flush(),
        close: (_socket, error) => this.gone(error ?? null, true),
        error: (_socket, error) => this.gone(error, true),
        connectError: (_socket, error) => this.gone(connectFailure(error, host, port), true),
        end: () => this.gone(null, true),
        timeout: () => {},
      },
    }).catch((error: Error) => this.gone(connectFailure(error, host, port), true));
  }

  /** Resolves when the server's SETTINGS came; rejects when the connection failed first. */
  whenUp(): Promise<void> {
    if (this.state === "up") return Promise.resolve();
    if (this.state === "closed") return Promise.reject(this.error ?? new Error("the connection closed"));
    return new Promise((resolve, reject) => this.upListeners.push((error) => (error === null ? resolve() : reject(error))));
  }

  /** Opens a stream: HEADERS (from `headerBlock`), then `body` as DATA with END_STREAM. */
  request(headerBlock: Uint8Array, body: Uint8Array, handler: StreamHandler): Http2Stream {
    if (this.state === "closed" || this.goingAway) throw new Error(this.goingAway ? "the connection is going away" : "the connection is closed");
    const stream = new Http2Stream(this, 0, headerBlock, body, handler);
    if (this.state === "up" && this.streams.size < this.peerMaxStreams) this.open(stream);
    else this.waitingToOpen.push(stream);
    return stream;
  }

  /** Closes the connection: streams still open end as dropped. */
  close(): void {
    if (this.state === "closed") return;
    if (this.socket !== null) {
      this.send(goaway(0, H2_NO_ERROR));
      this.socket.end();
    }
    this.gone(null, false);
  }

  reset(stream: Http2Stream, code: number): void {
    if (stream.closed) return;
    if (stream.id !== 0) this.send(rstStream(stream.id, code));
    this.closeStream(stream, { rstCode: code, dropped: false, refused: false });
  }

  // ------------------------------------------------------------ sending

  private open(stream: Http2Stream): void {
    stream.id = this.nextStreamId;
    this.nextStreamId += 2;
    this.streams.set(stream.id, stream);
    const block = stream.headerBlock;
    const frames: Uint8Array[] = [];
    // The header block in frames of at most the server's frame size: HEADERS, then CONTINUATIONs.
    for (let offset = 0, first = true; first || offset < block.length; first = false) {
      const size = Math.min(this.peerMaxFrame, block.length - offset);
      const last = offset + size >= block.length;
      const header = frameHeader(size, first ? HEADERS : CONTINUATION, last ? END_HEADERS : 0, stream.id);
      header.set(block.subarray(offset, offset + size), 9);
      frames.push(header);
      offset += size;
    }
    this.send(...frames);
    this.sendBody(stream);
  }

  /** Sends what the windows allow of the stream's body; the rest waits for WINDOW_UPDATE. */
  private sendBody(stream: Http2Stream): void {
    const body = stream.body;
    if (body === null || stream.closed) return;
    const frames: Uint8Array[] = [];
    for (;;) {
      const remaining = body.length - stream.bodyOffset;
      const size = Math.min(remaining, this.peerMaxFrame, stream.sendWindow, this.connectionSendWindow);
      if (size <= 0 && remaining > 0) break;
      const last = size === remaining;
      const frame = frameHeader(size, DATA, last ? END_STREAM : 0, stream.id);
      frame.set(body.subarray(stream.bodyOffset, stream.bodyOffset + size), 9);
      frames.push(frame);
      stream.bodyOffset += size;
      stream.sendWindow -= size;
      this.connectionSendWindow -= size;
      if (last) {
        stream.body = null;
        break;
      }
    }
    if (frames.length > 0) this.send(...frames);
    if (stream.body !== null) this.waitingToSend.add(stream);
    else this.waitingToSend.delete(stream);
  }

  private send(...parts: Uint8Array[]): void {
    if (this.socket === null || this.state === "closed") return;
    if (this.outbox.length > 0) {
      this.outbox.push(...parts);
      return;
    }
    const data = parts.length === 1 ? parts[0]! : concat(parts);
    const written = this.socket.write(data);
    if (written < data.length) this.outbox.push(data.subarray(Math.max(written, 0)));
  }

  private flush(): void {
    if (this.socket === null || this.outbox.length === 0) return;
    const data = concat(this.outbox);
    this.outbox = [];
    const written = this.socket.write(data);
    if (written < data.length) this.outbox.push(data.subarray(Math.max(written, 0)));
  }

  // ------------------------------------------------------------ receiving

  private receive(chunk: Uint8Array, at: number): void {
    let buf = chunk;
    if (this.pending !== null) {
      buf = concat([this.pending, chunk]);
      this.pending = null;
    }
    let pos = 0;
    const length = buf.length;
    try {
      while (length - pos >= 9 && this.state !== "closed") {
        const size = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
        if (size > MAX_FRAME) throw new ConnectionError(H2_FRAME_SIZE_ERROR, `a frame of ${size} bytes, above SETTINGS_MAX_FRAME_SIZE`);
        if (length - pos - 9 < size) break;
        const type = buf[pos + 3]!;
        const flags = buf[pos + 4]!;
        const streamId = ((buf[pos + 5]! & 0x7f) << 24) | (buf[pos + 6]! << 16) | (buf[pos + 7]! << 8) | buf[pos + 8]!;
        const start = pos + 9;
        pos = start + size;
        this.frame(type, flags, streamId, buf, start, pos, at);
      }
    } catch (error) {
      if (!(error instanceof ConnectionError)) throw error;
      this.send(goaway(0, error.code)); // the server opens no streams of its own (push is off)
      this.socket?.end();
      this.gone(new Error(`HTTP/2 protocol error: ${error.message}`), true);
      return;
    }
    // Keep our own copy of a partial frame: the chunk is the socket's.
    if (pos < length && this.state !== "closed") this.pending = buf.slice(pos);
  }

  private frame(type: number, flags: number, streamId: number, buf: Uint8Array, start: number, end: number, at: number): void {
    if (this.headerParts !== null && type !== CONTINUATION) throw new ConnectionError(H2_PROTOCOL_ERROR, "a frame inside a header block");
    switch (type) {
      case DATA: {
        if (streamId === 0) throw new ConnectionError(H2_PROTOCOL_ERROR, "DATA on stream 0");
        const size = end - start;
        let dataStart = start;
        let dataEnd = end;
        if (flags & PADDED) {
          // Inline, not unpad(): nothing allocated per DATA frame.
          if (size < 1 || buf[start]! > size - 1) throw new ConnectionError(H2_PROTOCOL_ERROR, "bad padding");
          dataStart = start + 1;
          dataEnd = end - buf[start]!;
        }
        this.consumed(size);
        const stream = this.streams.get(streamId);
        if (stream === undefined) return;
        stream.received += size;
        if (stream.received >= WINDOW_REFILL && !(flags & END_STREAM)) {
          this.send(windowUpdate(streamId, stream.received));
          stream.received = 0;
        }
        if (dataEnd > dataStart) stream.handler.onData(buf, dataStart, dataEnd, at);
        if (flags & END_STREAM) this.remoteEnd(stream);
        return;
      }
      case HEADERS: {
        if (streamId === 0) throw new ConnectionError(H2_PROTOCOL_ERROR, "HEADERS on stream 0");
        let { start: blockStart, end: blockEnd } = unpad(flags, buf, start, end);
        if (flags & PRIORITY) blockStart += 5;
        if (blockStart > blockEnd) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "HEADERS shorter than its priority fields");
        this.headerStreamId = streamId;
        this.headerEndStream = (flags & END_STREAM) !== 0;
        this.headerParts = [buf.slice(blockStart, blockEnd)];
        if (flags & END_HEADERS) this.headerBlockDone();
        return;
      }
      case CONTINUATION:
        if (this.headerParts === null || streamId !== this.headerStreamId) throw new ConnectionError(H2_PROTOCOL_ERROR, "CONTINUATION without its HEADERS");
        this.headerParts.push(buf.slice(start, end));
        if (flags & END_HEADERS) this.headerBlockDone();
        return;
      case RST_STREAM: {
        if (end - start !== 4) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "RST_STREAM of a wrong size");
        const stream = this.streams.get(streamId);
        if (stream !== undefined) this.closeStream(stream, { rstCode: uint32(buf, start), dropped: false, refused: false });
        return;
      }
      case SETTINGS:
        if (streamId !== 0) throw new ConnectionError(H2_PROTOCOL_ERROR, "SETTINGS on a stream");
        if (flags & ACK) return;
        if ((end - start) % 6 !== 0) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "SETTINGS of a wrong size");
        for (let p = start; p < end; p += 6) this.setting((buf[p]! << 8) | buf[p + 1]!, uint32(buf, p + 2));
        this.send(frameHeader(0, SETTINGS, ACK, 0));
        if (this.state === "connecting") {
          this.state = "up";
          this.wasUp = true;
          for (const listener of this.upListeners.splice(0)) listener(null);
        }
        this.openWaiting();
        return;
      case PING:
        if (end - start !== 8) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "PING of a wrong size");
        if (!(flags & ACK)) {
          const pong = frameHeader(8, PING, ACK, 0);
          pong.set(buf.subarray(start, end), 9);
          this.send(pong);
        }
        return;
      case GOAWAY: {
        if (end - start < 8) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "GOAWAY too short");
        const lastStreamId = uint32(buf, start) & MAX_WINDOW;
        this.goAway(lastStreamId);
        return;
      }
      case WINDOW_UPDATE: {
        if (end - start !== 4) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "WINDOW_UPDATE of a wrong size");
        const increment = uint32(buf, start) & MAX_WINDOW;
        if (streamId === 0) {
          if (increment === 0) throw new ConnectionError(H2_PROTOCOL_ERROR, "a WINDOW_UPDATE of 0");
          this.connectionSendWindow += increment;
          if (this.connectionSendWindow > MAX_WINDOW) throw new ConnectionError(H2_FLOW_CONTROL_ERROR, "the connection's window above 2^31 − 1");
          for (const stream of [...this.waitingToSend]) this.sendBody(stream);
        } else {
          const stream = this.streams.get(streamId);
          if (stream === undefined) return;
          if (increment === 0) return this.reset(stream, H2_PROTOCOL_ERROR);
          stream.sendWindow += increment;
          if (stream.sendWindow > MAX_WINDOW) return this.reset(stream, H2_FLOW_CONTROL_ERROR);
          this.sendBody(stream);
        }
        return;
      }
      case PUSH_PROMISE:
        throw new ConnectionError(H2_PROTOCOL_ERROR, "PUSH_PROMISE though push is off");
      default:
        return; // PRIORITY and unknown frame types are ignored
    }
  }

  private setting(id: number, value: number): void {
    switch (id) {
      case 0x3:
        this.peerMaxStreams = value;
        return;
      case 0x4: {
        if (value > MAX_WINDOW) throw new ConnectionError(H2_FLOW_CONTROL_ERROR, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31 − 1");
        const delta = value - this.peerInitialWindow;
        this.peerInitialWindow = value;
        for (const stream of this.streams.values()) stream.sendWindow += delta;
        for (const stream of [...this.waitingToSend]) this.sendBody(stream);
        return;
      }
      case 0x5:
        if (value < 16_384 || value > 16_777_215) throw new ConnectionError(H2_PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${value}`);
        this.peerMaxFrame = value;
        return;
      default:
        return; // HEADER_TABLE_SIZE bounds the server's decoder, not ours; the rest do not concern a client
    }
  }

  private headerBlockDone(): void {
    const parts = this.headerParts!;
    this.headerParts = null;
    const block = parts.length === 1 ? parts[0]! : concat(parts);
    let fields: Array<[string, string]>;
    try {
      fields = this.decoder.decode(block); // every block, even a closed stream's: the dynamic table depends on it
    } catch (error) {
      if (error instanceof HpackError) throw new ConnectionError(H2_COMPRESSION_ERROR, error.message);
      throw error;
    }
    const stream = this.streams.get(this.headerStreamId);
    if (stream === undefined) return;
    stream.handler.onHeaders(fields, this.headerEndStream);
    if (this.headerEndStream) this.remoteEnd(stream);
  }

  private remoteEnd(stream: Http2Stream): void {
    stream.remoteEnded = true;
    if (stream.body !== null) {
      // The server answered before taking the whole request: nothing more to send.
      this.send(rstStream(stream.id, H2_NO_ERROR));
    }
    this.closeStream(stream, { rstCode: H2_NO_ERROR, dropped: false, refused: false });
  }

  private consumed(size: number): void {
    this.connectionReceived += size;
    if (this.connectionReceived >= WINDOW_REFILL) {
      this.send(windowUpdate(0, this.connectionReceived));
      this.connectionReceived = 0;
    }
  }

  private goAway(lastStreamId: number): void {
    this.goingAway = true;
    for (const stream of [...this.streams.values()]) {
      if (stream.id > lastStreamId) this.closeStream(stream, { rstCode: H2_REFUSED_STREAM, dropped: true, refused: true });
    }
    for (const stream of this.waitingToOpen.splice(0)) this.closeStream(stream, { rstCode: H2_REFUSED_STREAM, dropped: true, refused: true });
    this.onGone?.();
    if (this.streams.size === 0) this.close();
  }

  private openWaiting(): void {
    while (this.waitingToOpen.length > 0 && this.streams.size < this.peerMaxStreams && this.state === "up") this.open(this.waitingToOpen.shift()!);
  }

  private closeStream(stream: Http2Stream, end: StreamEnd): void {
    if (stream.closed) return;
    stream.closed = true;
    stream.body = null;
    this.waitingToSend.delete(stream);
    if (stream.id !== 0) this.streams.delete(stream.id);
    else {
      const waiting = this.waitingToOpen.indexOf(stream);
      if (waiting >= 0) this.waitingToOpen.splice(waiting, 1);
    }
    stream.handler.onClose(end);
    if (this.state === "up") this.openWaiting();
    if (this.goingAway && this.streams.size === 0 && this.state !== "closed") this.close();
  }

  /** The connection ended: every stream still open ends as dropped. */
  private gone(error: Error | null, dropped: boolean): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.dropped = dropped;
    if (error !== null) this.error ??= error;
    const reason = this.error ?? new Error("the connection closed");
    for (const listener of this.upListeners.splice(0)) listener(reason);
    this.onGone?.();
    for (const stream of [...this.waitingToOpen.splice(0), ...this.streams.values()]) this.closeStream(stream, { rstCode: H2_NO_ERROR, dropped: true, refused: false });
    this.pending = null;
    this.outbox = [];
  }
}

/** Bun says "Failed to connect" and keeps the cause in `code`: name both, as Node does ("connect ECONNREFUSED 127.0.0.1:23333"). */
function connectFailure(error: Error, host: string, port: number): Error {
  const code = (error as Error & { code?: string }).code;
  return code ? new Error(`connect ${code} ${host}:${port}`) : error;
}

class ConnectionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Headers encoded once for every request of a kind (HPACK literals: nothing to keep in step per request). */
export function requestHeaderBlock(fields: ReadonlyArray<readonly [string, string]>): Uint8Array {
  return encodeHeaderBlock(fields);
}

function unpad(flags: number, buf: Uint8Array, start: number, end: number): { start: number; end: number } {
  if (!(flags & PADDED)) return { start, end };
  if (end - start < 1) throw new ConnectionError(H2_FRAME_SIZE_ERROR, "a padded frame without its pad length");
  const padding = buf[start]!;
  if (padding > end - start - 1) throw new ConnectionError(H2_PROTOCOL_ERROR, "padding longer than the frame");
  return { start: start + 1, end: end - padding };
}

function uint32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) >>> 0) + (buf[at + 1]! << 16) + (buf[at + 2]! << 8) + buf[at + 3]!;
}

/** A frame's 9-byte header, followed by room for its payload. */
function frameHeader(size: number, type: number, flags: number, streamId: number): Uint8Array {
  const frame = new Uint8Array(9 + size);
  frame[0] = size >>> 16;
  frame[1] = (size >>> 8) & 0xff;
  frame[2] = size & 0xff;
  frame[3] = type;
  frame[4] = flags;
  new DataView(frame.buffer).setUint32(5, streamId);
  return frame;
}

function writeSetting(body: Uint8Array, at: number, id: number, value: number): void {
  const view = new DataView(body.buffer, body.byteOffset);
  view.setUint16(at, id);
  view.setUint32(at + 2, value);
}

function windowUpdate(streamId: number, increment: number): Uint8Array {
  const frame = frameHeader(4, WINDOW_UPDATE, 0, streamId);
  new DataView(frame.buffer).setUint32(9, increment);
  return frame;
}

function rstStream(streamId: number, code: number): Uint8Array {
  const frame = frameHeader(4, RST_STREAM, 0, streamId);
  new DataView(frame.buffer).setUint32(9, code);
  return frame;
}

function goaway(lastStreamId: number, code: number): Uint8Array {
  const frame = frameHeader(8, GOAWAY, 0, 0);
  const view = new DataView(frame.buffer);
  view.setUint32(9, lastStreamId);
  view.setUint32(13, code);
  return frame;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const part of parts) size += part.length;
  const joined = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}
