import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

/**
 * Many requests due at the same moment (ramp-up 0, or rate inf): the client sends them one at a
 * time with a turn of the event loop in between, so the answers of the first are read while the
 * last are still being sent. Sent in one go, no answer was read before the last request was out,
 * and every TTFT carried the whole send burst (bench/connect-storm.ts: median 450 ms where the
 * server answered at once).
 */
interface Sent {
  status: string;
  send_ms: number;
  ttft_ms: number | null;
}

let mock: MockHandle;
beforeAll(async () => {
  mock = await startMock(["--ttft-ms", "0", "--itl-ms", "0"]);
});
afterAll(async () => {
  await mock.stop();
});

async function burst(name: string, ...load: string[]): Promise<Sent[]> {
  const dir = join(tempDir(), name);
  const result = await runCli([
    "run", "--base-url", mock.url, "--model", "mock-7b", "--dataset", "synthetic", "--input-len", "16", "--output-len", "2",
    "--no-progress", "--no-server-metrics", "--preconnect-rate", "2000", "--result-dir", dir, ...load,
  ], { timeoutMs: 90_000 });
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  expect(result.exitCode).toBe(0);
  const records = await readJsonl<Sent>(join(dir, "requests.jsonl"));
  expect(records.every((record) => record.status === "ok")).toBe(true);
  return records;
}

/** The earliest moment an answer's first token was read, against the moment the last request was sent. */
function firstReadBeforeLastSend(records: Sent[]): { firstRead: number; lastSend: number } {
  return {
    firstRead: Math.min(...records.map((record) => record.send_ms + record.ttft_ms!)),
    lastSend: Math.max(...records.map((record) => record.send_ms)),
  };
}

describe("a burst of requests due at once", () => {
  test("closed loop, 1,500 users at ramp-up 0: answers are read while the rest are sent", async () => {
    const records = await burst("closed", "--num-clients", "1500", "--num-requests", "1500", "--ramp-up-time", "0");
    expect(records).toHaveLength(1500);
    const { firstRead, lastSend } = firstReadBeforeLastSend(records);
    expect(firstRead).toBeLessThan(lastSend);
  }, 120_000);

  test("rate inf, 1,500 requests: answers are read while the rest are sent", async () => {
    const records = await burst("open", "--request-rate", "inf", "--num-requests", "1500");
    expect(records).toHaveLength(1500);
    const { firstRead, lastSend } = firstReadBeforeLastSend(records);
    expect(firstRead).toBeLessThan(lastSend);
  }, 120_000);
});
