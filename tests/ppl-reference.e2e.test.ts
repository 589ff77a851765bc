import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BackendDefinition, GenerationOutcome } from "../src/backends/backend.ts";
import { pplBackend } from "../src/backends/ppl.ts";
import { pplReferenceBackend } from "../src/backends/ppl-reference.ts";
import { startMock, type MockHandle } from "./helpers/cli.ts";

/**
 * The fast ppl client (transport/http2-client.ts + ppl-wire.ts) and the reference (grpc-js) against the same
 * simulator, over real sockets: the same answers, token counts, finish reasons and errors.
 */

interface Seen {
  outcome: GenerationOutcome;
  tokens: number;
  events: number;
}

async function ask(definition: BackendDefinition, baseUrl: string, pplProto: "v1" | "v2", outputLen: number): Promise<Seen> {
  const backend = definition.create({ baseUrl, model: "", apiKey: null, insecure: false, pplProto });
  try {
    let tokens = 0;
    let events = 0;
    const outcome = await backend.generate({ id: 1, messages: [{ role: "user", content: "count to ten" }], outputLen }, (_at, count) => {
      tokens += count;
      events++;
    }, AbortSignal.timeout(20_000));
    return { outcome, tokens, events };
  } finally {
    backend.close?.();
  }
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

describe("the fast ppl client answers as the grpc-js reference does", () => {
  for (const version of ["v2", "v1"] as const) {
    test(`${version}: tokens, text and finish reason`, async () => {
      const url = version === "v2" ? mock.urls.ppl! : mock.urls["ppl-v1"]!;
      for (const outputLen of [1, 7, 40]) {
        const [fast, reference] = [await ask(pplBackend, url, version, outputLen), await ask(pplReferenceBackend, url, version, outputLen)];
        expect(fast.outcome.error).toBeNull();
        expect(fast.tokens).toBe(outputLen);
        expect(fast).toEqual(reference);
      }
    }, 60_000);
  }

  test("a FAILED response and a message set mismatch fail both alike", async () => {
    const [fast, reference] = [await ask(pplBackend, failing.url, "v2", 20), await ask(pplReferenceBackend, failing.url, "v2", 20)];
    expect(fast.outcome.error).toStartWith("server error: status FAILED");
    expect(fast).toEqual(reference);
    const [fastMismatch, referenceMismatch] = [await ask(pplBackend, mock.urls["ppl-v1"]!, "v2", 5), await ask(pplReferenceBackend, mock.urls["ppl-v1"]!, "v2", 5)];
    expect(fastMismatch.outcome.error).not.toBeNull();
    expect(fastMismatch.outcome.error).toBe(referenceMismatch.outcome.error);
  }, 60_000);

  test("an unreachable server fails both as UNAVAILABLE", async () => {
    const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = server.port;
    server.stop(true);
    const [fast, reference] = [await ask(pplBackend, `127.0.0.1:${port}`, "v2", 3), await ask(pplReferenceBackend, `127.0.0.1:${port}`, "v2", 3)];
    expect(fast.outcome.error).toStartWith("gRPC UNAVAILABLE: ");
    expect(reference.outcome.error).toStartWith("gRPC UNAVAILABLE: ");
  }, 60_000);
});
