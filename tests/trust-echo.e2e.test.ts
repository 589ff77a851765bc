import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

/**
 * The simulator's echo faults send the request's Authorization header back, in a 401 body
 * (echo-auth) and in an error event mid-stream (echo-auth-stream), as gateways do. Whatever
 * llmbench writes or prints of those answers has the key scrubbed, and still says what happened.
 */

const KEY = "sk-echo-test-9f8e7d6c5b4a39281706";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("a server that echoes the Authorization header (mock --faults echo-auth, echo-auth-stream)", () => {
  let mock: MockHandle;
  let truthPath: string;
  beforeAll(async () => {
    truthPath = join(tempDir(), "truth.jsonl");
    mock = await startMock(["--protocol", "vllm,openai-chat", "--ttft-ms", "5", "--itl-ms", "2", "--faults", "echo-auth:0.5,echo-auth-stream:0.5", "--truth-log", truthPath]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  for (const backend of ["vllm", "openai-chat"]) {
    test(`${backend}: every request failed with its true reason, and the key is in no file and no output line`, async () => {
      const dir = tempDir();
      const result = await runCli([
        "run", "--backend", backend, "--base-url", mock.urls[backend]!, "--model", "m", "--dataset-path", DATASET,
        "--num-clients", "2", "--num-requests", "8", "--output-len", "8", "--result-dir", dir, "--no-progress",
      ], { env: { OPENAI_API_KEY: KEY } });
      expect(result.exitCode).toBe(1); // nothing completed
      const records = await readJsonl<{ status: string; error: string }>(join(dir, "requests.jsonl"));
      expect(records.length).toBe(8);
      const reasons = records.map((r) => r.error);
      // the reasons say what happened, with the key cut out of them
      for (const reason of reasons) expect(reason).toMatch(/^(HTTP 401: .*<redacted>|server error: simulated error \(--faults echo-auth-stream\): rejected Authorization: Bearer <redacted>)/);
      expect(reasons.some((r) => r.startsWith("HTTP 401"))).toBe(true);
      expect(reasons.some((r) => r.startsWith("server error"))).toBe(true);
      // the simulator really had the key to echo: it checked nothing, so only the faults struck
      const truth = await readJsonl<{ fault?: string }>(truthPath);
      expect(truth.filter((t) => t.fault?.startsWith("echo-auth")).length).toBeGreaterThanOrEqual(8);
      for (const path of filesUnder(dir)) expect(readFileSync(path, "utf8")).not.toContain(KEY);
      expect(result.stdout + result.stderr).not.toContain(KEY);
      expect(result.stdout + result.stderr).not.toContain(KEY.slice(0, 16));
    }, 60_000);
  }

  test("probe prints the echoed error without the key", async () => {
    const result = await runCli(["probe", "--backend", "vllm", "--base-url", mock.urls.vllm!, "--output-len", "8"], { env: { OPENAI_API_KEY: KEY } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/<redacted>/);
    expect(result.stdout + result.stderr).not.toContain(KEY);
  }, 60_000);
});
