/** Connections opened before the clock (preconnect), and connect_ms for the requests that had to connect. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { connectSummary } from "../src/runner/connections.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

interface RecordLine {
  user: number;
  seq: number;
  status: string;
  connect_ms: number | null;
  e2e_ms: number;
}

test("connectSummary: the requests that connected, hand-computed", () => {
  expect(connectSummary([null, 2, null, 4, 6])).toEqual({ requests_connected: 3, mean: 4, p50: 4, p99: expect.any(Number), max: 6 });
  expect(connectSummary([null, null])).toEqual({ requests_connected: 0, mean: null, p50: null, p99: null, max: null });
});

describe("preconnect against the simulator", () => {
  let keepAlive: MockHandle;
  let closing: MockHandle;
  beforeAll(async () => {
    keepAlive = await startMock(["--ttft-ms", "5", "--itl-ms", "1"]);
    closing = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--close-after-answer"]);
  });
  afterAll(async () => {
    await keepAlive?.stop();
    await closing?.stop();
  });

  const run = async (url: string, name: string, extra: string[] = []) => {
    const dir = join(tempDir(), name);
    const result = await runCli(["run", "--base-url", url, "--model", "m", "--dataset-path", DATASET, "--output-len", "4", "--num-clients", "4", "--num-requests", "12", "--ramp-up-time", "0", "--result-dir", dir, "--no-progress", ...extra]);
    expect(result.exitCode).toBe(0);
    return { records: await readJsonl<RecordLine>(join(dir, "requests.jsonl")), summary: await Bun.file(join(dir, "summary.json")).json() };
  };

  test("by default every user's connection is open before the clock: no request connects", async () => {
    const { records, summary } = await run(keepAlive.url, "pre");
    expect(records.every((r) => r.status === "ok")).toBe(true);
    expect(records.map((r) => r.connect_ms)).toEqual(records.map(() => null));
    expect(summary.preconnect.connections).toBe(4);
    expect(summary.preconnect.error).toBeUndefined();
    expect(summary.connect_ms.requests_connected).toBe(0);
  }, 60_000);

  test("--no-preconnect: each user connects at most once, with its first request, and the summary counts those", async () => {
    const { records, summary } = await run(keepAlive.url, "none", ["--no-preconnect"]);
    const connected = records.filter((r) => r.connect_ms !== null);
    // keep-alive: no user connects twice; one user may be handed the connection the health check left open
    expect(new Set(connected.map((r) => r.user)).size).toBe(connected.length);
    expect(connected.every((r) => r.seq === 0)).toBe(true);
    expect(connected.length).toBeGreaterThanOrEqual(3);
    expect(connected.length).toBeLessThanOrEqual(4);
    for (const r of connected) {
      expect(r.connect_ms!).toBeGreaterThanOrEqual(0);
      expect(r.connect_ms!).toBeLessThanOrEqual(r.e2e_ms);
    }
    expect(summary.preconnect ?? null).toBeNull();
    expect(summary.connect_ms).toEqual(connectSummary(records.filter((r) => r.status === "ok").map((r) => r.connect_ms)));
  }, 60_000);

  test("a server that closes after every answer: every request after the preconnected first ones connects, and says so", async () => {
    // (no /metrics reads: they share the pool, and this server would close the connection they used)
    const { records, summary } = await run(closing.url, "closing", ["--no-server-metrics"]);
    expect(records.every((r) => r.status === "ok")).toBe(true);
    // the 4 preconnected connections carry one answer each; the other 8 requests need their own
    expect(records.filter((r) => r.connect_ms !== null).length).toBe(8);
    expect(summary.connect_ms.requests_connected).toBe(8);
  }, 60_000);
});
