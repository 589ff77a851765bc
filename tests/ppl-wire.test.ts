import { describe, expect, test } from "bun:test";
// grpc-js's own deframer: the reference splits the byte stream exactly as the grpc-js client does.
import { StreamDecoder } from "@grpc/grpc-js/build/src/stream-decoder.js";
import type { GenerationRequest } from "../src/backends/backend.ts";
import { pplBatchedRequest, pplDecoder, pplServiceClient, type PplBatchedResponse, type PplProtoVersion } from "../src/backends/ppl-messages.ts";
import { decodeBatchedResponse, encodeBatchedRequest, encodeBatchedResponse, grpcFrame, PplResponseReader, type EncodableResponse } from "../src/backends/ppl-wire.ts";
import { StreamState } from "../src/backends/stream-state.ts";

/**
 * The fast ppl client's hand-written protobuf (ppl-wire.ts) against the reference (grpc-js's
 * deframer + proto-loader's messages + pplDecoder): the same recorded response byte streams, cut
 * at seeded random chunk boundaries, must give identical token calls (time, count, text), finish
 * reasons, errors and text.
 */

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** mulberry32: a small seeded PRNG, so that a failing split can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Call = [at: number, tokens: number, text: string];

interface Outcome {
  calls: Call[];
  error: string | null;
  finishReason: string | null;
  text: string;
  finished: boolean;
  counted: number;
}

function split(stream: Uint8Array, next: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let pos = 0;
  while (pos < stream.length) {
    const size = next() < 0.3 ? 1 + Math.floor(next() * 3) : 1 + Math.floor(next() * 80);
    chunks.push(stream.slice(pos, pos + size));
    pos += size;
  }
  return chunks;
}

function outcomeOf(state: StreamState, calls: Call[]): Outcome {
  const outcome = state.finish();
  return { calls, error: outcome.error, finishReason: outcome.finishReason, text: outcome.text, finished: state.finished, counted: state.counted };
}

function viaFast(version: PplProtoVersion, chunks: Uint8Array[]): Outcome {
  const calls: Call[] = [];
  const state = new StreamState((at, tokens, text) => calls.push([at, tokens, text]));
  const reader = new PplResponseReader(version, state);
  try {
    chunks.forEach((chunk, at) => {
      // As the HTTP/2 client hands them over: a DATA frame's bytes inside a bigger read, which the
      // transport reuses afterwards (overwritten here, so that bytes kept without a copy would show).
      const read = new Uint8Array(9 + chunk.length + (at % 7));
      read.set(chunk, 9);
      reader.push(read, at, 9, 9 + chunk.length);
      read.fill(0xee);
    });
  } catch (error) {
    state.fail(`gRPC INTERNAL: Response message parsing error: ${(error as Error).message}`);
  }
  return outcomeOf(state, calls);
}

const deserializers = {
  v1: pplServiceClient("v1").service.Generation!.responseDeserialize,
  v2: pplServiceClient("v2").service.Generation!.responseDeserialize,
};

function viaReference(version: PplProtoVersion, chunks: Uint8Array[]): Outcome {
  const calls: Call[] = [];
  const state = new StreamState((at, tokens, text) => calls.push([at, tokens, text]));
  const decode = pplDecoder(state);
  const deserialize = deserializers[version];
  const decoder = new StreamDecoder(4 * 1024 * 1024);
  try {
    chunks.forEach((chunk, at) => {
      // Framed messages, as grpc-js's compression filter then takes them: flag 0, the message after the 5-byte header.
      for (const framed of decoder.write(Buffer.from(chunk))) {
        if (framed[0] !== 0) throw new Error("compressed");
        if (!state.over) decode(deserialize(framed.subarray(5)) as PplBatchedResponse, at);
      }
    });
  } catch (error) {
    state.fail(`gRPC INTERNAL: Response message parsing error: ${(error as Error).message}`);
  }
  return outcomeOf(state, calls);
}

const WORDS = ["", " the", "é", "日本", "🙂", " a b", "x".repeat(40), "\n"];

/** A random answer as a ppl server might stream it: one or more Responses per message, the last FINISHED (or FAILED, or cut short). */
function randomAnswer(version: PplProtoVersion, next: () => number): Uint8Array {
  const messages: Uint8Array[] = [];
  const count = 1 + Math.floor(next() * 12);
  for (let m = 0; m < count; m++) {
    const responses: EncodableResponse[] = [];
    const perMessage = next() < 0.8 ? 1 : 2 + Math.floor(next() * 3);
    for (let r = 0; r < perMessage; r++) {
      const last = m === count - 1 && r === perMessage - 1;
      const roll = next();
      const status = last ? (roll < 0.75 ? 1 : roll < 0.85 ? 2 : roll < 0.9 ? 7 : 0) : next() < 0.97 ? 0 : 1;
      const response: EncodableResponse = { status, id: Math.floor(next() * 2 ** 40), generated: WORDS[Math.floor(next() * WORDS.length)], tokenIds: next() < 0.9 ? [Math.floor(next() * 150000)] : [] };
      if (version === "v2" && next() < 0.8) response.finishReason = Math.floor(next() * 4); // 3: unknown to the proto
      responses.push(response);
    }
    let bytes = encodeBatchedResponse(responses);
    if (next() < 0.1) bytes = Uint8Array.from([...bytes, 0x10, 0x05, 0x1a, 0x01, 0x41]); // unknown fields 2 and 3 of BatchedResponse
    messages.push(grpcFrame(bytes));
  }
  return Buffer.concat(messages);
}

describe("ppl wire format: fast path against the grpc-js reference", () => {
  test("BatchedRequest bytes are protobufjs's, v1 and v2", () => {
    const requests: GenerationRequest[] = [
      { id: 7, messages: [{ role: "user", content: "hi" }], outputLen: 5 },
      { id: 2 ** 33 + 5, messages: [{ role: "system", content: "sé" }, { role: "user", content: "日本 🙂".repeat(30) }], outputLen: 4096 },
      { id: 0, messages: [{ role: "user", content: "" }], outputLen: 1 },
    ];
    for (const version of ["v1", "v2"] as const) {
      const generation = pplServiceClient(version).service.Generation!;
      for (const request of requests) expect(hex(encodeBatchedRequest(version, request))).toBe(hex(generation.requestSerialize(pplBatchedRequest(version, request))));
    }
  });

  for (const version of ["v1", "v2"] as const) {
    test(`${version}: 400 recorded answers, each cut at random boundaries, count the same`, () => {
      const next = random(version === "v1" ? 11 : 22);
      for (let i = 0; i < 400; i++) {
        const stream = randomAnswer(version, next);
        // Some streams end inside a message, as a dropped connection leaves them.
        const recorded = next() < 0.1 ? stream.slice(0, Math.floor(next() * stream.length)) : stream;
        const chunks = split(recorded, next);
        const fast = viaFast(version, chunks);
        expect(fast).toEqual(viaReference(version, chunks));
      }
    }, 30_000);
  }

  test("a malformed message fails both, before it counts anything", () => {
    const good = grpcFrame(encodeBatchedResponse([{ status: 0, generated: "ok" }]));
    const malformed = [
      Uint8Array.from([0x0a, 0x05, 0x1a, 0x09, 0x41]), // generated's length beyond the Response
      Uint8Array.from([0x0a, 0x02, 0x08]), // truncated varint
      Uint8Array.from([0x0a, 0x01, 0x0f]), // wire type 7
    ];
    for (const version of ["v1", "v2"] as const) {
      for (const bytes of malformed) {
        const chunks = [Buffer.concat([good, grpcFrame(bytes), good])];
        const fast = viaFast(version, chunks);
        const reference = viaReference(version, chunks);
        expect(fast.calls).toEqual(reference.calls);
        expect(fast.counted).toBe(1);
        expect(fast.error).toStartWith("gRPC INTERNAL: Response message parsing error");
        expect(reference.error).toStartWith("gRPC INTERNAL: Response message parsing error");
      }
    }
  });

  test("probe's raw events decode as proto-loader decodes", () => {
    const next = random(5);
    for (const version of ["v1", "v2"] as const) {
      const deserialize = pplServiceClient(version).service.Generation!.responseDeserialize;
      for (let i = 0; i < 100; i++) {
        const responses: EncodableResponse[] = [{ status: Math.floor(next() * 3), id: Math.floor(next() * 1e6), generated: WORDS[i % WORDS.length], tokenIds: [i, 2 ** 31 + i], finishReason: version === "v2" ? i % 3 : undefined }];
        const bytes = encodeBatchedResponse(responses);
        expect(JSON.stringify(decodeBatchedResponse(bytes, 0, bytes.length, version))).toBe(JSON.stringify(deserialize(Buffer.from(bytes))));
      }
    }
  });
});
