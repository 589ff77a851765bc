/**
 * A minimal ppl.llm.serving gRPC server for benchmarks, far lighter than `llmbench mock` (grpc-js):
 * raw HTTP/2 frames on Bun.listen and hand-written protobuf, so that the client, not this server,
 * is what is measured, and each message's write time is taken at the socket write itself.
 *
 *   bun bench/ppl-fake-server.ts --rate 50 --streams 200 --truth-log truth.jsonl [--port 0] [--schedule shared|own]
 *
 * Every Generation call gets max_new_tokens messages, one Response each: the first at once, then
 * one per tick. `--schedule shared` (the default): one clock ticking every 1000/rate ms gives every
 * open stream its next message, all of a connection's in one write, as a batching LLM server does
 * (one decode step, a token for each request) and as HTTP/2 servers coalesce frames (like
 * bench/fake-sse-server.ts's shared clock). `--schedule own`: each call on its own clock from its
 * arrival, each message in a write of its own (the worst case for a client: a wake-up per message).
 * Each message's write time (epoch ms) goes to the truth log, one JSON line per call. On stdout:
 * "listening PORT", then "steady WRITTEN" when --streams calls are open at once for the first time
 * and "draining WRITTEN" when the first of them ends (WRITTEN: messages written so far), so that a
 * caller can measure the client between the two.
 *
 * HTTP/2 is spoken as far as a client of ours needs: SETTINGS, HEADERS (request headers are not
 * read: the path is the only rpc), DATA, WINDOW_UPDATE and the client's windows, PING, RST_STREAM.
 */
import { appendFileSync } from "node:fs";
import type { Socket } from "bun";
import { parseArgs } from "node:util";
import { encodeBatchedResponse, grpcFrame } from "../src/backends/ppl-wire.ts";
import { encodeHeaderBlock } from "../src/backends/transport/http2-hpack.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    rate: { type: "string", default: "50" },
    streams: { type: "string", default: "0" },
    "truth-log": { type: "string" },
    schedule: { type: "string", default: "shared" },
  },
});
const periodMs = 1000 / Number(values.rate);
const steadyAt = Number(values.streams);
const truthPath = values["truth-log"] ?? null;
const shared = values.schedule !== "own";
if (values.schedule !== "own" && values.schedule !== "shared") throw new Error(`--schedule: shared or own, not ${values.schedule}`);
const epochMs = () => performance.timeOrigin + performance.now();

/** BatchedRequest → its first Request's id (1) and stopping_parameters.max_new_tokens (5.1); enough for a benchmark. */
function requestBasics(body: Uint8Array): { id: number; maxTokens: number } {
  let pos = 5; // gRPC frame header
  const varint = () => {
    let result = 0;
    let scale = 1;
    for (;;) {
      const byte = body[pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
  };
  const fields = (end: number, visit: (field: number, wire: number) => boolean) => {
    while (pos < end) {
      const tag = varint();
      if (visit(tag >>> 3, tag & 7)) continue;
      const wire = tag & 7;
      if (wire === 0) varint();
      else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else {
        const length = varint(); // not `pos += varint()`: that reads pos before the varint moves it
        pos += length;
      }
    }
  };
  let id = 0;
  let maxTokens = 1;
  fields(body.length, (field, wire) => {
    if (field !== 1 || wire !== 2) return false;
    const requestEnd = varint() + pos;
    fields(requestEnd, (inner, innerWire) => {
      if (inner === 1 && innerWire === 0) return (id = varint()), true;
      if (inner !== 5 || innerWire !== 2) return false;
      const stoppingEnd = varint() + pos;
      fields(stoppingEnd, (stop, stopWire) => (stop === 1 && stopWire === 0 ? ((maxTokens = varint()), true) : false));
      return true;
    });
    pos = body.length; // the first Request is enough
    return true;
  });
  return { id, maxTokens };
}

// ---------------------------------------------------------------- frames

const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const SETTINGS = 0x4;
const PING = 0x6;
const WINDOW_UPDATE = 0x8;
const END_STREAM = 0x1;
const END_HEADERS = 0x4;
const PADDED = 0x8;
const PREFACE_LENGTH = 24;

function frame(type: number, flags: number, streamId: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const bytes = new Uint8Array(9 + payload.length);
  bytes[0] = payload.length >>> 16;
  bytes[1] = (payload.length >>> 8) & 0xff;
  bytes[2] = payload.length & 0xff;
  bytes[3] = type;
  bytes[4] = flags;
  new DataView(bytes.buffer).setUint32(5, streamId);
  bytes.set(payload, 9);
  return bytes;
}

const RESPONSE_HEADERS = encodeHeaderBlock([[":status", "200"], ["content-type", "application/grpc"]]);
const TRAILERS = encodeHeaderBlock([["grpc-status", "0"]]);

// ---------------------------------------------------------------- calls

interface Call {
  id: number;
  streamId: number;
  conn: Conn;
  body: Uint8Array[];
  /** DATA frames, one per message, built when the request arrived. */
  frames: Uint8Array[];
  next: number;
  arrival: number;
  start: number;
  tokenMs: number[];
  timer: ReturnType<typeof setTimeout> | null;
  done: boolean;
  /** The client's window for this stream. */
  window: number;
}

interface Conn {
  socket: Socket<Conn>;
  buffer: Uint8Array;
  prefaceSeen: boolean;
  calls: Map<number, Call>;
  initialWindow: number;
  window: number;
  outbox: Uint8Array[];
}

let open = 0;
let written = 0;
let steady = false;
let draining = false;
/** Calls open on the shared clock. */
const ticking = new Set<Call>();

function send(conn: Conn, parts: Uint8Array[]): void {
  if (parts.length === 0) return;
  let size = 0;
  for (const part of parts) size += part.length;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  if (conn.outbox.length > 0) return void conn.outbox.push(bytes);
  const done = conn.socket.write(bytes);
  if (done < bytes.length) conn.outbox.push(bytes.subarray(Math.max(0, done)));
}

/** The call's next message, when the client's windows take it; false when they do not (it waits for WINDOW_UPDATE). */
function nextMessage(call: Call, parts: Uint8Array[]): boolean {
  const message = call.frames[call.next]!;
  const size = message.length - 9;
  if (size > call.window || size > call.conn.window) return false;
  call.window -= size;
  call.conn.window -= size;
  parts.push(message);
  call.next++;
  if (call.next === call.frames.length) parts.push(frame(HEADERS, END_HEADERS | END_STREAM, call.streamId, TRAILERS));
  return true;
}

/** After the write: each message written gets its time; finished calls end. */
function wrote(calls: Call[]): void {
  const at = epochMs();
  for (const call of calls) {
    call.tokenMs.push(at);
    written++;
    if (call.next === call.frames.length) finish(call, "ok");
  }
}

function finish(call: Call, status: string): void {
  if (call.done) return;
  call.done = true;
  if (call.timer !== null) clearTimeout(call.timer);
  ticking.delete(call);
  call.conn.calls.delete(call.streamId);
  if (call.frames.length === 0) return; // the request never came whole: not a call yet
  open--;
  if (steady && !draining) {
    draining = true;
    console.log(`draining ${written}`);
  }
  if (truthPath) appendFileSync(truthPath, JSON.stringify({ id: call.id, arrival_ms: call.arrival, token_ms: call.tokenMs, end_ms: epochMs(), status }) + "\n");
}

function startCall(call: Call): void {
  const body = Buffer.concat(call.body);
  call.arrival = epochMs();
  const { id, maxTokens } = requestBasics(body);
  call.id = id;
  for (let k = 0; k < maxTokens; k++) {
    const message = grpcFrame(encodeBatchedResponse([{ status: k === maxTokens - 1 ? 1 : 0, id, generated: k % 5 === 3 ? "" : " tok", tokenIds: [1000 + k], finishReason: 0 }]));
    call.frames.push(frame(DATA, 0, call.streamId, message));
  }
  open++;
  if (!steady && steadyAt > 0 && open >= steadyAt) {
    steady = true;
    console.log(`steady ${written}`);
  }
  call.start = performance.now();
  const parts = [frame(HEADERS, END_HEADERS, call.streamId, RESPONSE_HEADERS)];
  const sent = nextMessage(call, parts);
  send(call.conn, parts);
  if (sent) wrote([call]);
  if (call.done) return;
  if (shared) ticking.add(call);
  else ownTick(call);
}

/** `--schedule own`: the call's next message at start + k × period, in a write of its own. */
function ownTick(call: Call, blocked = false): void {
  call.timer = setTimeout(() => {
    call.timer = null;
    if (call.done) return;
    const parts: Uint8Array[] = [];
    const sent = nextMessage(call, parts);
    if (sent) {
      send(call.conn, parts);
      wrote([call]);
    }
    if (!call.done) ownTick(call, !sent);
  }, Math.max(blocked ? 1 : 0, call.start + call.next * periodMs - performance.now()));
}

/** `--schedule shared`: every open call's next message, one write per connection. */
if (shared) {
  const clockStart = performance.now();
  let tick = 0;
  const onTick = () => {
    tick++;
    const byConn = new Map<Conn, { parts: Uint8Array[]; calls: Call[] }>();
    for (const call of ticking) {
      let batch = byConn.get(call.conn);
      if (batch === undefined) byConn.set(call.conn, (batch = { parts: [], calls: [] }));
      if (nextMessage(call, batch.parts)) batch.calls.push(call);
    }
    for (const [conn, batch] of byConn) {
      send(conn, batch.parts);
      wrote(batch.calls);
    }
    setTimeout(onTick, Math.max(0, clockStart + (tick + 1) * periodMs - performance.now()));
  };
  setTimeout(onTick, periodMs);
}

function onFrame(conn: Conn, type: number, flags: number, streamId: number, payload: Uint8Array): void {
  switch (type) {
    case SETTINGS:
      if (flags & 1) return;
      for (let p = 0; p + 6 <= payload.length; p += 6) {
        const id = (payload[p]! << 8) | payload[p + 1]!;
        const value = new DataView(payload.buffer, payload.byteOffset + p + 2, 4).getUint32(0);
        if (id === 0x4) {
          for (const call of conn.calls.values()) call.window += value - conn.initialWindow;
          conn.initialWindow = value;
        }
      }
      send(conn, [frame(SETTINGS, 1, 0)]);
      return;
    case HEADERS: {
      if (!(flags & END_HEADERS)) throw new Error("CONTINUATION is not spoken here");
      const call: Call = { id: 0, streamId, conn, body: [], frames: [], next: 0, arrival: 0, start: 0, tokenMs: [], timer: null, done: false, window: conn.initialWindow };
      conn.calls.set(streamId, call);
      if (flags & END_STREAM) startCall(call);
      return;
    }
    case DATA: {
      const call = conn.calls.get(streamId);
      let data = payload;
      if (flags & PADDED) data = payload.subarray(1, payload.length - payload[0]!);
      if (data.length > 0) send(conn, [windowUpdate(0, data.length)]);
      if (call === undefined) return;
      call.body.push(data.slice());
      if (flags & END_STREAM) startCall(call);
      return;
    }
    case WINDOW_UPDATE: {
      const increment = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0) & 0x7fffffff;
      if (streamId === 0) conn.window += increment;
      else {
        const call = conn.calls.get(streamId);
        if (call !== undefined) call.window += increment;
      }
      return; // messages held back by a window go at the next tick
    }
    case RST_STREAM: {
      const call = conn.calls.get(streamId);
      if (call !== undefined) finish(call, "cancelled");
      return;
    }
    case PING:
      if (!(flags & 1)) send(conn, [frame(PING, 1, 0, payload)]);
      return;
    default:
      return;
  }
}

function windowUpdate(streamId: number, increment: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, increment);
  return frame(WINDOW_UPDATE, 0, streamId, payload);
}

const server = Bun.listen<Conn>({
  hostname: "127.0.0.1",
  port: Number(values.port),
  socket: {
    open(socket) {
      socket.setNoDelay(true);
      socket.data = { socket, buffer: new Uint8Array(0), prefaceSeen: false, calls: new Map(), initialWindow: 65_535, window: 65_535, outbox: [] };
      send(socket.data, [frame(SETTINGS, 0, 0)]);
    },
    data(socket, chunk) {
      const conn = socket.data;
      let buf: Uint8Array = conn.buffer.length > 0 ? Buffer.concat([conn.buffer, chunk]) : chunk;
      let pos = 0;
      if (!conn.prefaceSeen) {
        if (buf.length < PREFACE_LENGTH) return void (conn.buffer = buf.slice());
        pos = PREFACE_LENGTH;
        conn.prefaceSeen = true;
      }
      while (buf.length - pos >= 9) {
        const size = (buf[pos]! << 16) | (buf[pos + 1]! << 8) | buf[pos + 2]!;
        if (buf.length - pos - 9 < size) break;
        const streamId = new DataView(buf.buffer, buf.byteOffset + pos + 5, 4).getUint32(0) & 0x7fffffff;
        onFrame(conn, buf[pos + 3]!, buf[pos + 4]!, streamId, buf.subarray(pos + 9, pos + 9 + size));
        pos += 9 + size;
      }
      conn.buffer = buf.slice(pos);
    },
    drain(socket) {
      const conn = socket.data;
      const parts = conn.outbox;
      conn.outbox = [];
      send(conn, parts);
    },
    close(socket) {
      for (const call of [...socket.data.calls.values()]) finish(call, "cancelled");
    },
    error() {},
  },
});
console.log(`listening ${server.port}`);
process.on("SIGTERM", () => process.exit(0));
