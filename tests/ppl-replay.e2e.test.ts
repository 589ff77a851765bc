import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import type { BackendDefinition, GenerationOutcome } from "../src/backends/backend.ts";
import { pplBackend } from "../src/backends/ppl.ts";
import { pplReferenceBackend } from "../src/backends/ppl-reference.ts";
import { startMock, type MockHandle } from "./helpers/cli.ts";

/**
 * The fast ppl client (transport/http2-client.ts + ppl-wire.ts) against the reference (grpc-js)
 * on the same recorded byte streams, over real sockets: what `llmbench mock` sent to the reference
 * for one call (HTTP/2 frames, HPACK with Huffman and the dynamic table, gRPC messages) is replayed
 * to both clients at once, cut at random chunk boundaries. Both must count the same tokens, text,
 * finish reason and error, and the fast client must time each message no earlier than the write
 * of the chunk that completed it, and close to when the reference saw it.
 */

interface Seen {
  outcome: GenerationOutcome;
  tokens: number;
  /** The time of each token (an event of n tokens gives n equal times). */
  tokenAt: number[];
}

async function ask(definition: BackendDefinition, address: string, pplProto: "v1" | "v2", outputLen: number): Promise<Seen> {
  const backend = definition.create({ baseUrl: address, model: "", apiKey: null, insecure: false, pplProto });
  try {
    const tokenAt: number[] = [];
    const outcome = await backend.generate({ id: 1, messages: [{ role: "user", content: "count to ten" }], outputLen }, (at, count) => {
      for (let i = 0; i < count; i++) tokenAt.push(at);
    }, AbortSignal.timeout(30_000));
    return { outcome, tokens: tokenAt.length, tokenAt };
  } finally {
    backend.close?.();
  }
}

/** A TCP proxy to `target` that keeps what the server sent on the first connection. */
function recordingProxy(targetPort: number): { address: string; recorded: () => Uint8Array; stop(): void } {
  const parts: Uint8Array[] = [];
  let first = true;
  const server = Bun.listen<{ upstream: Promise<Socket<undefined>>; record: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(client) {
        const record = first;
        first = false;
        client.data = {
          record,
          upstream: Bun.connect({
            hostname: "127.0.0.1",
            port: targetPort,
            socket: {
              data(_upstream, chunk) {
                if (record) parts.push(Uint8Array.from(chunk));
                client.write(chunk);
              },
              close: () => void client.end(),
              error: () => void client.end(),
            },
          }),
        };
      },
      data(client, chunk) {
        const copy = Uint8Array.from(chunk);
        void client.data.upstream.then((upstream) => upstream.write(copy));
      },
      close(client) {
        void client.data?.upstream.then((upstream) => upstream.end());
      },
    },
  });
  return {
    address: `127.0.0.1:${server.port}`,
    recorded: () => Buffer.concat(parts),
    stop: () => server.stop(true),
  };
}

/** Where each gRPC message on stream 1 ends in the server's bytes (an independent reading of the frames). */
function messageEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  let pos = 0;
  let need = 5;
  let header: number[] = [];
  let inMessage = false;
  while (pos + 9 <= bytes.length) {
    const size = (bytes[pos]! << 16) | (bytes[pos + 1]! << 8) | bytes[pos + 2]!;
    const type = bytes[pos + 3]!;
    const flags = bytes[pos + 4]!;
    const stream = new DataView(bytes.buffer, bytes.byteOffset + pos + 5, 4).getUint32(0) & 0x7fffffff;
    let start = pos + 9;
    let end = start + size;
    if (type === 0 && stream === 1) {
      if (flags & 0x8) {
        end -= bytes[start]!;
        start += 1;
      }
      for (let i = start; i < end; i++) {
        if (!inMessage) {
          header.push(bytes[i]!);
          if (header.length === 5) {
            need = new DataView(Uint8Array.from(header).buffer).getUint32(1);
            header = [];
            inMessage = true;
            if (need === 0) (ends.push(i + 1), (inMessage = false));
          }
        } else if (--need === 0) {
          ends.push(i + 1);
          inMessage = false;
        }
      }
    }
    pos = pos + 9 + size;
  }
  return ends;
}

/**
 * Serves `bytes` to every client that connects, after its first bytes, in chunks of 1–`maxChunk`
 * bytes, one every ~1 ms, the same chunk to all clients at the same time. Records when each was written.
 */
function replayServer(bytes: Uint8Array, clients: number, seed: number, maxChunk: number): { address: string; writtenAt: number[]; chunkEnds: number[]; stop(): void } {
  let state = seed;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const chunkEnds: number[] = [];
  for (let end = 0; end < bytes.length; ) {
    end = Math.min(bytes.length, end + 1 + Math.floor(random() * maxChunk));
    chunkEnds.push(end);
  }
  const writtenAt: number[] = [];
  const sockets: Socket<undefined>[] = [];
  const start = () => {
    let k = 0;
    const next = () => {
      if (k === chunkEnds.length) return;
      const chunk = bytes.subarray(k === 0 ? 0 : chunkEnds[k - 1]!, chunkEnds[k]!);
      for (const socket of sockets) socket.write(chunk);
      writtenAt.push(performance.now());
      k++;
      setTimeout(next, 1);
    };
    next();
  };
  let ready = 0;
  const server = Bun.listen<undefined>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.setNoDelay(true);
      },
      data(socket) {
        if (sockets.includes(socket)) return;
        sockets.push(socket);
        if (++ready === clients) start();
      },
    },
  });
  return { address: `127.0.0.1:${server.port}`, writtenAt, chunkEnds, stop: () => server.stop(true) };
}

let mock: MockHandle;
let failing: MockHandle;

beforeAll(async () => {
  mock = await startMock(["--protocol", "ppl,ppl-v1", "--ttft-ms", "5", "--itl-ms", "1"]);
  failing = await startMock(["--protocol", "ppl", "--ttft-ms", "5", "--itl-ms", "1", "--faults", "error-event:1"]);
}, 30_000);

afterAll(async () => {
  await mock?.stop();
  await failing?.stop();
});

const scenarios = [
  { name: "v2, 40 tokens", url: () => mock.urls.ppl!, version: "v2" as const, outputLen: 40, fails: false },
  { name: "v1, 7 tokens", url: () => mock.urls["ppl-v1"]!, version: "v1" as const, outputLen: 7, fails: false },
  { name: "a FAILED response", url: () => failing.url, version: "v2" as const, outputLen: 20, fails: true },
  { name: "v2 messages from a v1 server", url: () => mock.urls["ppl-v1"]!, version: "v2" as const, outputLen: 5, fails: true },
];

describe("recorded gRPC byte streams, replayed in random chunks, read alike by the fast client and grpc-js", () => {
  for (const scenario of scenarios) {
    test(scenario.name, async () => {
      const proxy = recordingProxy(Number(scenario.url().split(":").at(-1)));
      let recorded: Uint8Array;
      let original: Seen;
      try {
        original = await ask(pplReferenceBackend, proxy.address, scenario.version, scenario.outputLen);
        recorded = proxy.recorded();
      } finally {
        proxy.stop();
      }
      const ends = messageEnds(recorded);
      if (!scenario.fails) expect(ends.length).toBe(scenario.outputLen);
      for (const [seed, maxChunk] of [[1, 3], [2, 17], [3, 200]] as const) {
        const replay = replayServer(recorded, 2, seed, maxChunk);
        try {
          const [fast, reference] = await Promise.all([
            ask(pplBackend, replay.address, scenario.version, scenario.outputLen),
            ask(pplReferenceBackend, replay.address, scenario.version, scenario.outputLen),
          ]);
          expect(fast.outcome).toEqual(reference.outcome);
          expect(fast.tokens).toBe(reference.tokens);
          expect(fast.outcome).toEqual(original.outcome);
          if (scenario.fails) expect(fast.outcome.error).not.toBeNull();
          else {
            expect(fast.outcome.error).toBeNull();
            expect(fast.tokens).toBe(scenario.outputLen);
            expect(fast.tokens).toBe(ends.length);
          }
          // Token k came with message k: seen no earlier than the write of the chunk that completed it.
          fast.tokenAt.forEach((at, k) => {
            const chunk = replay.chunkEnds.findIndex((end) => end >= ends[k]!);
            expect(at).toBeGreaterThanOrEqual(replay.writtenAt[chunk]!);
            expect(Math.abs(at - reference.tokenAt[k]!)).toBeLessThan(250);
          });
        } finally {
          replay.stop();
        }
      }
    }, 90_000);
  }
});
