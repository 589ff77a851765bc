import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS, type TruthTiming } from "./helpers/truth.ts";

/** The token lines probe prints: `+   31.6 ms  #1    1 token   " the"`. */
function tokenLines(stdout: string): Array<{ offsetMs: number; total: number; tokens: number; text: string }> {
  return [...stdout.matchAll(/^\s+\+\s*([\d.]+) ms\s+#(\d+)\s+(\d+) tokens?\s+(".*")$/gm)].map((m) => ({
    offsetMs: Number(m[1]),
    total: Number(m[2]),
    tokens: Number(m[3]),
    text: JSON.parse(m[4]!) as string,
  }));
}

const ttftOf = (stdout: string) => Number(/TTFT ([\d.]+) ms/.exec(stdout)?.[1]);

let truthPath: string;
/** The server's TTFT and TPOT for the newest request of a protocol in the truth log. */
async function lastTruth(protocol: string): Promise<{ ttft: number; tpot: number }> {
  const entries = (await readJsonl<TruthTiming & { protocol: string; output_tokens: number }>(truthPath)).filter((t) => t.protocol === protocol && t.output_tokens > 1);
  const t = entries.at(-1)!;
  return { ttft: t.token_ms[0]! - t.arrival_ms, tpot: (t.token_ms.at(-1)! - t.token_ms[0]!) / (t.token_ms.length - 1) };
}

describe("llmbench probe", () => {
  let mock: MockHandle;
  let failing: MockHandle;
  beforeAll(async () => {
    truthPath = join(tempDir(), "truth.jsonl");
    mock = await startMock(["--protocol", "vllm,openai-chat,ppl", "--ttft-ms", "30", "--itl-ms", "5", "--truth-log", truthPath]);
    failing = await startMock(["--protocol", "sglang", "--ttft-ms", "5", "--itl-ms", "1", "--fail-after-tokens", "2"]);
  });
  afterAll(async () => {
    await mock?.stop();
    await failing?.stop();
  });

  test("prints each token with its time since send, then TTFT, TPOT, counts, finish reason and the raw first and last events", async () => {
    const result = await runCli(["probe", "--backend", "vllm", "--base-url", mock.urls.vllm!, "--output-len", "6", "--prompt", "Say hello"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/health check passed in [\d.]+ ms/);
    const lines = tokenLines(result.stdout);
    expect(lines.map((l) => l.total)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(lines.map((l) => l.text).join("")).toBe(" the model answers with simulated tokens");
    for (let i = 1; i < lines.length; i++) expect(lines[i]!.offsetMs).toBeGreaterThanOrEqual(lines[i - 1]!.offsetMs); // two events in one read share a time
    const ttft = ttftOf(result.stdout);
    expect(ttft).toBe(lines[0]!.offsetMs);
    expect(ttft).toBeGreaterThanOrEqual(30);
    // the health check opened the connection: no handshake in it, only loopback delivery
    const server = await lastTruth("vllm");
    expect(ttft - server.ttft).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
    expect(ttft - server.ttft).toBeLessThan(DELIVERY_TOLERANCE_MS);
    const tpot = Number(/TPOT ([\d.]+) ms/.exec(result.stdout)?.[1]);
    expect(server.tpot).toBeGreaterThanOrEqual(5 - 0.05);
    expect(Math.abs(tpot - server.tpot)).toBeLessThan(DELIVERY_TOLERANCE_MS / 5);
    expect(result.stdout).toContain("output tokens  6 of 6 asked: 6 streamed in 6 token events; the server counted 6");
    expect(result.stdout).toMatch(/prompt tokens  \d+/);
    expect(result.stdout).toContain("finish reason  length");
    expect(result.stdout).toMatch(/first raw event \(\+[\d.]+ ms\): \{"id":"cmpl-\d+","object":"text_completion"/);
    expect(result.stdout).toMatch(/last raw event {2}\(\+[\d.]+ ms\): \[DONE\]/);
  });

  test("openai-chat: the role delta is the first raw event but not the first token", async () => {
    const result = await runCli(["probe", "--backend", "openai-chat", "--base-url", mock.urls["openai-chat"]!, "--output-len", "3"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/first raw event \(\+[\d.]+ ms\): .*"delta":\{"role":"assistant","content":""\}/);
    const lines = tokenLines(result.stdout);
    expect(lines.length).toBe(3);
    expect(lines[0]!.offsetMs).toBeGreaterThanOrEqual(30);
    expect(ttftOf(result.stdout)).toBe(lines[0]!.offsetMs);
  });

  test("ppl: a token with empty text is printed and counted; TTFT does not include the channel's handshake", async () => {
    const result = await runCli(["probe", "--backend", "ppl", "--base-url", mock.urls.ppl!, "--output-len", "6"]);
    expect(result.exitCode).toBe(0);
    expect(ttftOf(result.stdout)).toBeGreaterThanOrEqual(30);
    // a gRPC handshake (~35 ms here) would show as client TTFT well above the server's
    const server = await lastTruth("ppl");
    expect(ttftOf(result.stdout) - server.ttft).toBeLessThan(DELIVERY_TOLERANCE_MS);
    const lines = tokenLines(result.stdout);
    expect(lines.map((l) => l.tokens)).toEqual([1, 1, 1, 1, 1, 1]);
    expect(lines[3]!.text).toBe(""); // the simulator holds back token 4's text, as for a split character
    expect(result.stdout).toContain("output tokens  6 of 6 asked");
    expect(result.stdout).toMatch(/last raw event {2}\(\+[\d.]+ ms\): \{"rsp":\[\{"status":"FINISHED"/);
  });

  test("a failing server: the tokens that came, the server's message, exit code 1", async () => {
    const result = await runCli(["probe", "--backend", "sglang", "--base-url", failing.url, "--output-len", "8"]);
    expect(result.exitCode).toBe(1);
    expect(tokenLines(result.stdout).length).toBe(2);
    expect(result.stdout).toMatch(/health check passed/);
    expect(result.stdout).toContain("failed: server error: simulated failure after 2 tokens (--fail-after-tokens)");
  });
});
