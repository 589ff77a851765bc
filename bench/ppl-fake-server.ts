/**
 * A minimal ppl.llm.serving gRPC server for benchmarks, far lighter than `llmbench mock` (grpc-js):
 * node:http2 and hand-written protobuf, so that the client, not this server, is what is measured.
 *
 *   bun bench/ppl-fake-server.ts --rate 50 --streams 200 --truth-log truth.jsonl [--port 0]
 *
 * Every Generation call gets max_new_tokens messages, one Response each: the first at once, then
 * one every 1000/rate ms on an absolute schedule. Each message's write time (epoch ms, right after
 * the write) goes to the truth log, one JSON line per call. On stdout: "listening PORT", then
 * "steady WRITTEN" when --streams calls are open at once for the first time and "draining WRITTEN"
 * when the first of them ends (WRITTEN: messages written so far), so that a caller can measure
 * the client between the two.
 */
import { appendFileSync } from "node:fs";
import http2 from "node:http2";
import { parseArgs } from "node:util";
import { encodeBatchedResponse, grpcFrame } from "../src/backends/ppl-wire.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "0" },
    rate: { type: "string", default: "50" },
    streams: { type: "string", default: "0" },
    "truth-log": { type: "string" },
  },
});
const periodMs = 1000 / Number(values.rate);
const steadyAt = Number(values.streams);
const truthPath = values["truth-log"] ?? null;
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

let open = 0;
let written = 0;
let steady = false;
let draining = false;

const server = http2.createServer();
server.on("stream", (stream: http2.ServerHttp2Stream) => {
  const parts: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => parts.push(chunk));
  stream.on("error", () => {});
  stream.on("end", () => {
    const arrival = epochMs();
    const { id, maxTokens } = requestBasics(Buffer.concat(parts));
    const messages = Array.from({ length: maxTokens }, (_, k) =>
      grpcFrame(encodeBatchedResponse([{ status: k === maxTokens - 1 ? 1 : 0, id, generated: k % 5 === 3 ? "" : " tok", tokenIds: [1000 + k], finishReason: 0 }])),
    );
    const tokenMs: number[] = [];
    open++;
    if (!steady && steadyAt > 0 && open >= steadyAt) {
      steady = true;
      console.log(`steady ${written}`);
    }
    stream.respond({ ":status": 200, "content-type": "application/grpc" }, { waitForTrailers: true });
    stream.on("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
    const start = performance.now();
    let k = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const finish = (status: string) => {
      if (timer !== null) clearTimeout(timer);
      open--;
      if (steady && !draining) {
        draining = true;
        console.log(`draining ${written}`);
      }
      if (truthPath) appendFileSync(truthPath, JSON.stringify({ id, arrival_ms: arrival, token_ms: tokenMs, end_ms: epochMs(), status }) + "\n");
    };
    stream.on("close", () => {
      if (k < maxTokens) finish("cancelled");
    });
    const writeNext = () => {
      timer = null;
      if (stream.destroyed) return;
      stream.write(messages[k]!);
      tokenMs.push(epochMs());
      written++;
      k++;
      if (k === maxTokens) {
        stream.end();
        finish("ok");
        return;
      }
      timer = setTimeout(writeNext, Math.max(0, start + k * periodMs - performance.now()));
    };
    writeNext();
  });
});
server.listen(Number(values.port), "127.0.0.1", () => console.log(`listening ${(server.address() as { port: number }).port}`));
process.on("SIGTERM", () => process.exit(0));
