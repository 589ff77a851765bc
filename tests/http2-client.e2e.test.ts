import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { pplBackend } from "../src/backends/ppl.ts";
import { startMock, type MockHandle } from "./helpers/cli.ts";

/**
 * The lean HTTP/2 client's flow control and multiplexing against `llmbench mock` (grpc-js on
 * Bun's HTTP/2 server) over real sockets: request bodies larger than the server's windows wait for
 * its WINDOW_UPDATEs, and hundreds of calls share one connection.
 */

let mock: MockHandle;

beforeAll(async () => {
  mock = await startMock(["--protocol", "ppl", "--ttft-ms", "5", "--itl-ms", "2"]);
}, 30_000);

afterAll(async () => {
  await mock?.stop();
});

describe("the lean HTTP/2 client", () => {
  test("prompts far beyond the server's 64 KiB windows are sent whole, several at once", async () => {
    const backend = pplBackend.create({ baseUrl: mock.url, model: "", apiKey: null, insecure: false, pplProto: "v2" });
    try {
      const prompt = "lorem ipsum ".repeat(30_000); // 360 KB
      const outcomes = await Promise.all(
        [1, 2, 3].map((id) => backend.generate({ id, messages: [{ role: "user", content: prompt }], outputLen: 5 }, () => {}, AbortSignal.timeout(30_000))),
      );
      for (const outcome of outcomes) expect(outcome.error).toBeNull();
    } finally {
      backend.close?.();
    }
  }, 60_000);

  test("300 calls at once on one connection all get their tokens", async () => {
    const backend = pplBackend.create({ baseUrl: mock.url, model: "", apiKey: null, insecure: false, pplProto: "v2" });
    try {
      const counts = new Array<number>(300).fill(0);
      const outcomes = await Promise.all(
        counts.map((_, i) => backend.generate({ id: i + 1, messages: [{ role: "user", content: `call ${i}` }], outputLen: 20 }, (_at, tokens) => void (counts[i]! += tokens), AbortSignal.timeout(60_000))),
      );
      for (const outcome of outcomes) expect(outcome.error).toBeNull();
      expect(counts).toEqual(new Array<number>(300).fill(20));
    } finally {
      backend.close?.();
    }
  }, 90_000);

  test("an aborted call ends at once and the connection serves the next", async () => {
    const slow = await startMock(["--protocol", "ppl", "--ttft-ms", "5", "--itl-ms", "50"]);
    const backend = pplBackend.create({ baseUrl: slow.url, model: "", apiKey: null, insecure: false, pplProto: "v2" });
    try {
      let tokens = 0;
      const controller = new AbortController();
      const aborted = backend.generate({ id: 1, messages: [{ role: "user", content: "x" }], outputLen: 200 }, (_at, count) => {
        tokens += count;
        if (tokens === 3) controller.abort(new Error("enough"));
      }, controller.signal);
      await expect(aborted).rejects.toThrow("enough");
      const next = await backend.generate({ id: 2, messages: [{ role: "user", content: "y" }], outputLen: 3 }, () => {}, AbortSignal.timeout(20_000));
      expect(next.error).toBeNull();
    } finally {
      backend.close?.();
      await slow.stop();
    }
  }, 60_000);
});
