import type { GenerationRequest } from "./backend.ts";
import { promptText } from "./backend.ts";
import type { StreamState } from "./stream-state.ts";

/**
 * ppl.llm.serving's messages in protobuf wire format, written and read by hand: the client's fast
 * path encodes its one BatchedRequest and decodes only the few Response fields it counts (status,
 * generated, detail.finish_reason), straight from the bytes of the gRPC stream. The reference
 * (grpc-js + proto-loader, ppl-messages.ts) must agree with it: tests/ppl-wire.test.ts feeds both
 * the same byte streams.
 */

export type PplProtoVersion = "v1" | "v2";

// ---------------------------------------------------------------- encoding

class Writer {
  private bytes: number[] = [];

  varint(value: number): this {
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  uint(field: number, value: number): this {
    return this.tag(field, 0).varint(value);
  }

  bool(field: number, value: boolean): this {
    return this.tag(field, 0).varint(value ? 1 : 0);
  }

  float(field: number, value: number): this {
    const buffer = new DataView(new ArrayBuffer(4));
    buffer.setFloat32(0, value, true);
    this.tag(field, 5);
    for (let i = 0; i < 4; i++) this.bytes.push(buffer.getUint8(i));
    return this;
  }

  bytesField(field: number, value: Uint8Array): this {
    this.tag(field, 2).varint(value.length);
    for (const byte of value) this.bytes.push(byte);
    return this;
  }

  message(field: number, inner: Writer): this {
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const utf8 = new TextEncoder();

/**
 * One benchmark request as a BatchedRequest: greedy, exactly `outputLen` tokens (ignore EOS);
 * byte for byte what protobufjs writes for ppl-messages.ts's pplBatchedRequest (every field that
 * object sets, in field order).
 */
export function encodeBatchedRequest(version: PplProtoVersion, request: GenerationRequest): Uint8Array {
  const prompt = utf8.encode(promptText(request.messages));
  const stopping = new Writer().uint(1, request.outputLen).bool(3, true);
  const inner = new Writer().uint(1, request.id);
  if (version === "v1") {
    inner.float(2, 0).bytesField(3, prompt).message(5, stopping);
  } else {
    const choosing = new Writer().float(1, 0).uint(2, 1).float(3, 0).bool(5, false).float(7, 1);
    inner.bytesField(2, prompt).message(4, choosing).message(5, stopping);
  }
  return new Writer().message(1, inner).finish();
}

/** A message in gRPC's length-prefixed framing: flag 0 (uncompressed), 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const framed = new Uint8Array(5 + message.length);
  new DataView(framed.buffer).setUint32(1, message.length);
  framed.set(message, 5);
  return framed;
}

// ---------------------------------------------------------------- decoding

export class WireError extends Error {}

const STATUS_NAMES = ["PROCESSING", "FINISHED", "FAILED"];
const FINISH_REASON_NAMES = ["FINISH_REASON_LENGTH", "FINISH_REASON_EOS_TOKEN", "FINISH_REASON_STOP_SEQUENCE"];

/** What the counting needs of one Response; reused for every Response (nothing allocated per token). */
interface ResponseFields {
  status: number;
  generatedStart: number;
  generatedEnd: number;
  /** -1: no Detail, or a Detail without finish_reason (the reference reads both as the enum's default, 0). */
  finishReason: number;
  hasDetail: boolean;
}

/** Reads protobuf from one buffer, bounds-checked: a truncated or malformed message throws WireError. */
class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    public end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError("truncated varint");
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new WireError("varint longer than 10 bytes");
  }

  /** A varint read as protobufjs reads an int32/enum: its low 32 bits, signed. */
  int32(): number {
    const start = this.pos;
    const value = this.varint();
    // Values below 2^31 are exact; above, take the low 32 bits from the bytes themselves.
    if (value < 0x80000000) return value;
    let low = 0;
    for (let i = 0, p = start; i < 5 && p < this.pos; i++, p++) low |= (this.buf[p]! & 0x7f) << (7 * i);
    return low | 0;
  }

  length(): number {
    const length = this.varint();
    if (length > this.end - this.pos) throw new WireError(`length ${length} beyond the message's end`);
    return length;
  }

  skip(wireType: number): void {
    switch (wireType) {
      case 0:
        this.varint();
        return;
      case 1:
        this.advance(8);
        return;
      case 2:
        this.advance(this.length());
        return;
      case 5:
        this.advance(4);
        return;
      case 3:
        for (;;) {
          const tag = this.varint();
          if ((tag & 7) === 4) return;
          this.skip(tag & 7);
        }
      default:
        throw new WireError(`invalid wire type ${wireType}`);
    }
  }

  reset(position: number): this {
    this.pos = position;
    return this;
  }

  advance(count: number): void {
    if (count > this.end - this.pos) throw new WireError("truncated field");
    this.pos += count;
  }
}

function expectWireType(tag: number, wireType: number): void {
  if ((tag & 7) !== wireType) throw new WireError(`field ${tag >>> 3} has wire type ${tag & 7}, expected ${wireType}`);
}

/** Detail { finish_reason = 3 }; merged into `fields` as protobuf merges a repeated embedded message. */
function readDetail(reader: Reader, end: number, fields: ResponseFields): void {
  const outerEnd = reader.end;
  reader.end = end;
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag >>> 3 === 3) {
      expectWireType(tag, 0);
      fields.finishReason = reader.int32();
    } else reader.skip(tag & 7);
  }
  reader.end = outerEnd;
}

/** Response { status = 1, generated = 3, detail = 5 (v2) }; the rest skipped. */
function readResponse(reader: Reader, end: number, version: PplProtoVersion, fields: ResponseFields): void {
  fields.status = 0;
  fields.generatedStart = 0;
  fields.generatedEnd = 0;
  fields.finishReason = -1;
  fields.hasDetail = false;
  const outerEnd = reader.end;
  reader.end = end;
  while (reader.pos < end) {
    const tag = reader.varint();
    const field = tag >>> 3;
    if (field === 1) {
      expectWireType(tag, 0);
      fields.status = reader.int32();
    } else if (field === 3) {
      expectWireType(tag, 2);
      const length = reader.length();
      fields.generatedStart = reader.pos;
      fields.generatedEnd = reader.pos + length;
      reader.pos += length;
    } else if (field === 5 && version === "v2") {
      expectWireType(tag, 2);
      const length = reader.length();
      fields.hasDetail = true;
      readDetail(reader, reader.pos + length, fields);
    } else {
      if (field === 0) throw new WireError("field number 0");
      reader.skip(tag & 7);
    }
  }
  reader.end = outerEnd;
}

const textDecoder = new TextDecoder();

/** UTF-8 text of bytes [start, end): short ASCII (the usual token) without TextDecoder's call cost. */
function utf8Text(buf: Uint8Array, start: number, end: number): string {
  if (end - start <= 16) {
    let ascii = true;
    for (let i = start; i < end; i++) {
      if (buf[i]! >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (ascii) {
      let text = "";
      for (let i = start; i < end; i++) text += String.fromCharCode(buf[i]!);
      return text;
    }
  }
  return textDecoder.decode(buf.subarray(start, end));
}

const FINISH_REASONS: Record<string, string> = {
  FINISH_REASON_LENGTH: "length",
  FINISH_REASON_EOS_TOKEN: "eos_token",
  FINISH_REASON_STOP_SEQUENCE: "stop_sequence",
};

function statusName(status: number): string {
  return STATUS_NAMES[status] ?? String(status);
}

/** The finish reason as the record names it; an enum value unknown to the proto is kept as its number. */
export function finishReasonOf(name: string | undefined): string {
  if (name === undefined) return "finished";
  return FINISH_REASONS[name] ?? name;
}

/**
 * Counts one BatchedResponse (bytes [start, end) of `buf`) into `state`, exactly as
 * ppl-messages.ts's pplDecoder counts the decoded message: every Response with status PROCESSING
 * or FINISHED is one token (even with empty `generated`), FINISHED ends the answer, FAILED and
 * unknown statuses fail the request. Throws WireError on a malformed message.
 */
export function countBatchedResponse(buf: Uint8Array, start: number, end: number, version: PplProtoVersion, state: StreamState, at: number, fields: ResponseFields = newResponseFields()): void {
  const reader = new Reader(buf, start, end);
  let tokens = 0;
  let text = "";
  // The whole message is read before anything is counted (the reference decodes it first: a malformed one counts nothing).
  eachResponse(reader, end, version, fields);
  reader.reset(start);
  for (;;) {
    if (!nextResponse(reader, end, version, fields)) break;
    const status = fields.status;
    if (status === 2) {
      state.tokens(at, tokens, text);
      const generated = utf8Text(buf, fields.generatedStart, fields.generatedEnd);
      state.fail(`server error: status FAILED${generated ? ` (${generated})` : ""}`);
      return;
    }
    if (status !== 0 && status !== 1) {
      state.fail(`server error: unknown status ${statusName(status)}`);
      return;
    }
    tokens++;
    if (fields.generatedEnd > fields.generatedStart) text += utf8Text(buf, fields.generatedStart, fields.generatedEnd);
    if (status === 1) {
      state.finished = true;
      const reason = fields.hasDetail ? Math.max(fields.finishReason, 0) : -1;
      state.outcome.finishReason = reason < 0 ? "finished" : finishReasonOf(FINISH_REASON_NAMES[reason] ?? String(reason));
    }
  }
  state.tokens(at, tokens, text);
}

/** Reads the next Response into `fields`; false at the message's end. */
function nextResponse(reader: Reader, end: number, version: PplProtoVersion, fields: ResponseFields): boolean {
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag >>> 3 === 1) {
      expectWireType(tag, 2);
      const length = reader.length();
      readResponse(reader, reader.pos + length, version, fields);
      return true;
    }
    if (tag >>> 3 === 0) throw new WireError("field number 0");
    reader.skip(tag & 7);
  }
  return false;
}

function eachResponse(reader: Reader, end: number, version: PplProtoVersion, fields: ResponseFields): void {
  while (nextResponse(reader, end, version, fields));
}

export function newResponseFields(): ResponseFields {
  return { status: 0, generatedStart: 0, generatedEnd: 0, finishReason: -1, hasDetail: false };
}

// ---------------------------------------------------------------- framing

/**
 * Splits a gRPC response body, arriving in chunks of any size, into messages, and counts each as
 * it completes, timestamped with the arrival of the chunk that completed it. A message split over
 * chunks is copied once; one inside a chunk is read in place.
 */
export class PplResponseReader {
  private pending: Uint8Array | null = null;
  private pendingLength = 0;
  private readonly fields = newResponseFields();
  /** Messages completed so far. */
  messages = 0;

  constructor(
    private readonly version: PplProtoVersion,
    private readonly state: StreamState,
    private readonly onMessage?: (buf: Uint8Array, start: number, end: number, at: number) => void,
  ) {}

  /**
   * Bytes [start, end) of `chunk` are the body's next; they may be the transport's and reused after
   * the call. Throws WireError on a malformed or compressed message; the stream is then to be failed.
   */
  push(chunk: Uint8Array, at: number, start = 0, end = chunk.length): void {
    let buf = chunk;
    let pos = start;
    let length = end;
    if (this.pending !== null) {
      const joined = new Uint8Array(this.pendingLength + end - start);
      joined.set(this.pending.subarray(0, this.pendingLength));
      joined.set(chunk.subarray(start, end), this.pendingLength);
      buf = joined;
      pos = 0;
      length = joined.length;
      this.pending = null;
    }
    while (length - pos >= 5) {
      const compressed = buf[pos]!;
      const size = ((buf[pos + 1]! << 24) >>> 0) + (buf[pos + 2]! << 16) + (buf[pos + 3]! << 8) + buf[pos + 4]!;
      if (length - pos - 5 < size) break;
      if (compressed !== 0) throw new WireError(compressed === 1 ? "a compressed message, but no compression was asked for" : `invalid message flag ${compressed}`);
      const messageStart = pos + 5;
      pos = messageStart + size;
      this.messages++;
      this.onMessage?.(buf, messageStart, pos, at);
      if (!this.state.over) countBatchedResponse(buf, messageStart, pos, this.version, this.state, at, this.fields);
    }
    if (pos < length) {
      // Keep our own copy of the transport's bytes.
      this.pending = buf === chunk ? buf.slice(pos, length) : buf.subarray(pos, length);
      this.pendingLength = length - pos;
    }
  }

  /** Bytes of a message that never completed (the stream ended inside one). */
  get leftover(): number {
    return this.pending === null ? 0 : this.pendingLength;
  }
}

// ---------------------------------------------------------------- full decoding (probe only)

export interface DecodedResponse {
  status: string;
  id: number;
  generated: string;
  tokens: { ids: number[] } | null;
  detail?: { logprobs: number; is_special: boolean; finish_reason: string } | null;
}

/** A BatchedResponse as an object shaped as proto-loader's (defaults filled), for `llmbench probe`'s raw events. */
export function decodeBatchedResponse(buf: Uint8Array, start: number, end: number, version: PplProtoVersion): { rsp: DecodedResponse[] } {
  const reader = new Reader(buf, start, end);
  const rsp: DecodedResponse[] = [];
  while (reader.pos < end) {
    const tag = reader.varint();
    if (tag >>> 3 !== 1) {
      reader.skip(tag & 7);
      continue;
    }
    expectWireType(tag, 2);
    const responseEnd = reader.length() + reader.pos; // length() first: it moves pos
    const response: DecodedResponse = { status: "PROCESSING", id: 0, generated: "", tokens: null };
    if (version === "v2") response.detail = null;
    const outerEnd = reader.end;
    reader.end = responseEnd;
    while (reader.pos < responseEnd) {
      const inner = reader.varint();
      const field = inner >>> 3;
      if (field === 1) response.status = statusName(reader.int32());
      else if (field === 2) response.id = reader.varint();
      else if (field === 3) {
        const length = reader.length();
        response.generated = utf8Text(buf, reader.pos, reader.pos + length);
        reader.pos += length;
      } else if (field === 4) {
        const tokensEnd = reader.length() + reader.pos; // length() first: it moves pos
        const ids = response.tokens?.ids ?? [];
        while (reader.pos < tokensEnd) {
          const idTag = reader.varint();
          if (idTag >>> 3 !== 1) reader.skip(idTag & 7);
          else if ((idTag & 7) === 2) {
            const packedEnd = reader.length() + reader.pos; // length() first: it moves pos
            while (reader.pos < packedEnd) ids.push(reader.varint() >>> 0);
          } else ids.push(reader.varint() >>> 0);
        }
        response.tokens = { ids };
      } else if (field === 5 && version === "v2") {
        const detailEnd = reader.length() + reader.pos; // length() first: it moves pos
        const detail = response.detail ?? { logprobs: 0, is_special: false, finish_reason: FINISH_REASON_NAMES[0]! };
        while (reader.pos < detailEnd) {
          const detailTag = reader.varint();
          const detailField = detailTag >>> 3;
          if (detailField === 1 && (detailTag & 7) === 5) {
            detail.logprobs = new DataView(buf.buffer, buf.byteOffset + reader.pos, 4).getFloat32(0, true);
            reader.pos += 4;
          } else if (detailField === 2) detail.is_special = reader.varint() !== 0;
          else if (detailField === 3) {
            const value = reader.int32();
            detail.finish_reason = FINISH_REASON_NAMES[value] ?? String(value);
          } else reader.skip(detailTag & 7);
        }
        response.detail = detail;
      } else reader.skip(inner & 7);
    }
    reader.end = outerEnd;
    rsp.push(response);
  }
  return { rsp };
}

// ---------------------------------------------------------------- response encoding (simulators, tests)

export interface EncodableResponse {
  status?: number;
  id?: number;
  generated?: string;
  tokenIds?: number[];
  /** v2 only. */
  finishReason?: number;
}

/** A BatchedResponse with the given Responses, as a ppl server writes it (default values left out). */
export function encodeBatchedResponse(responses: readonly EncodableResponse[]): Uint8Array {
  const outer = new Writer();
  for (const response of responses) {
    const inner = new Writer();
    if (response.status) inner.uint(1, response.status);
    if (response.id) inner.uint(2, response.id);
    if (response.generated) inner.bytesField(3, utf8.encode(response.generated));
    if (response.tokenIds?.length) {
      const packed = new Writer();
      for (const id of response.tokenIds) packed.varint(id);
      inner.message(4, new Writer().bytesField(1, packed.finish()));
    }
    if (response.finishReason !== undefined) inner.message(5, response.finishReason ? new Writer().uint(3, response.finishReason) : new Writer());
    outer.message(1, inner);
  }
  return outer.finish();
}
