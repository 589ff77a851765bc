/**
 * `llmbench run --trace`: the trace's requests leave at their offsets, as the simulator's truth log
 * sees them arrive. The run's start is recovered from the records (send − queue wait − planned
 * offset is the same instant for every request), so each arrival is compared with start + offset.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS, median } from "./helpers/truth.ts";

interface TruthEntry {
  arrival_ms: number;
  output_tokens: number;
  prompt_tokens: number;
  prompt?: string;
}

interface TraceRecord {
  conversation: string;
  turn: number;
  prompt_index: number;
  send_ms: number;
  planned_ms: number;
  queue_wait_ms: number;
  in_tokens: number;
  out_tokens: number;
  status: string;
}

const SPEED = 2;
/**
 * Timestamps (ms) with runs and pauses, 40 ms apart once replayed at SPEED: far enough that a
 * request delayed by a busy machine (or a cold connection) still reaches the server in order.
 */
const TIMESTAMPS = [0, 80, 160, 240, 640, 720.5, 800, 1200, 1280, 1360, 1440, 1520, 1600, 2100, 2180, 2600, 2680, 2760, 2840, 3100];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = ((sorted.length - 1) * p) / 100;
  const low = Math.floor(rank);
  return sorted[low]! + (sorted[Math.min(low + 1, sorted.length - 1)]! - sorted[low]!) * (rank - low);
}

describe("llmbench run --trace against llmbench mock", () => {
  let mock: MockHandle;
  let dir: string;
  let truthPath: string;
  let exitCode: number;
  let records: TraceRecord[];

  beforeAll(async () => {
    dir = tempDir();
    truthPath = join(dir, "truth.jsonl");
    const lines = TIMESTAMPS.map((timestamp, i) =>
      // a distinct output length per request tells them apart in the truth log
      JSON.stringify({ timestamp, input_length: 40 + i, output_length: 3 + i, ...(i % 3 === 0 ? { hash_ids: [0] } : {}) }),
    );
    writeFileSync(join(dir, "trace.jsonl"), lines.join("\n") + "\n");
    mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--truth-log", truthPath]);
    const result = await runCli(["run", "--base-url", mock.url, "--model", "mock-model", "--trace", join(dir, "trace.jsonl"), "--trace-speed", String(SPEED), "--result-dir", join(dir, "result"), "--no-progress"]);
    exitCode = result.exitCode;
    if (exitCode !== 0) console.error(result.stdout, result.stderr);
    records = await readJsonl<TraceRecord>(join(dir, "result/requests.jsonl"));
  }, 60_000);
  afterAll(async () => {
    await mock?.stop();
  });

  test("every request is sent once, with its planned offset and exact input length", () => {
    expect(exitCode).toBe(0);
    expect(records.length).toBe(TIMESTAMPS.length);
    const byLine = [...records].sort((a, b) => a.prompt_index - b.prompt_index);
    expect(byLine.map((r) => r.prompt_index)).toEqual(TIMESTAMPS.map((_, i) => i + 1));
    expect(byLine.map((r) => r.planned_ms)).toEqual(TIMESTAMPS.map((t) => t / SPEED));
    expect(byLine.map((r) => r.in_tokens)).toEqual(TIMESTAMPS.map((_, i) => 40 + i));
    expect(byLine.map((r) => r.out_tokens)).toEqual(TIMESTAMPS.map((_, i) => 3 + i));
    expect(byLine.every((r) => r.status === "ok")).toBe(true);
  });

  test("requests reach the server at their offsets, in the trace's order", async () => {
    const truth = await readJsonl<TruthEntry>(truthPath);
    // the same set, and arriving in the planned order
    const arrived = [...truth].sort((a, b) => a.arrival_ms - b.arrival_ms).map((t) => t.output_tokens);
    expect(arrived).toEqual(TIMESTAMPS.map((_, i) => 3 + i));
    // one start instant shared by every record
    const starts = records.map((r) => r.send_ms - r.queue_wait_ms - r.planned_ms);
    expect(Math.max(...starts) - Math.min(...starts)).toBeLessThan(0.01);
    const start = starts[0]!;
    const errors = truth.map((t) => t.arrival_ms - (start + TIMESTAMPS[t.output_tokens - 3]! / SPEED));
    console.log(`trace replay: arrival − planned, ms: median ${median(errors).toFixed(2)}, p99 ${percentile(errors, 99).toFixed(2)}, max ${Math.max(...errors).toFixed(2)}`);
    // never early; typically within a few ms; the worst (a cold connection, a busy machine) within tens
    expect(Math.min(...errors)).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
    // (the accuracy itself is measured by bench/rate-accuracy.ts; here only what a loaded machine keeps)
    expect(median(errors)).toBeLessThan(DELIVERY_TOLERANCE_MS / 2);
    expect(percentile(errors, 90)).toBeLessThan(DELIVERY_TOLERANCE_MS);
    expect(percentile(errors, 99)).toBeLessThan(4 * DELIVERY_TOLERANCE_MS);
  });

  test("a bad line is a usage error naming file:line, before any request", async () => {
    const bad = join(dir, "bad.jsonl");
    writeFileSync(bad, `{"timestamp": 0, "input_length": 5, "output_length": 2}\n{"timestamp": "soon", "input_length": 5}\n`);
    const before = (await readJsonl(truthPath)).length;
    const result = await runCli(["run", "--base-url", mock.url, "--model", "mock-model", "--trace", bad, "--result-dir", join(dir, "bad-result")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`${bad}:2: timestamp`);
    expect((await readJsonl(truthPath)).length).toBe(before);
  }, 30_000);

  test("the turns of a session are one conversation: a turn waits for the one before and sends its history", async () => {
    const trace = join(dir, "session.jsonl");
    writeFileSync(
      trace,
      [
        { timestamp: 0, prompt: "First question about rivers.", output_length: 6, session_id: "s" },
        { timestamp: 5, prompt: "Second question about lakes.", output_length: 4, session_id: "s" },
        { timestamp: 5, input_length: 30, output_length: 5 },
      ]
        .map((line) => JSON.stringify(line))
        .join("\n"),
    );
    const sessionTruth = join(dir, "session-truth.jsonl");
    const sessionMock = await startMock(["--ttft-ms", "50", "--itl-ms", "10", "--truth-log", sessionTruth, "--log-prompts"]);
    try {
      const result = await runCli(["run", "--base-url", sessionMock.url, "--model", "mock-model", "--trace", trace, "--result-dir", join(dir, "session-result"), "--no-progress"]);
      expect(result.exitCode).toBe(0);
      const sessionRecords = await readJsonl<TraceRecord>(join(dir, "session-result/requests.jsonl"));
      const [first, second] = [0, 1].map((turn) => sessionRecords.find((r) => r.conversation === "s" && r.turn === turn)!);
      // the second turn left only after the first had finished (≥ 50 ms + 5 tokens at 10 ms), not at 5 ms
      expect(second!.send_ms).toBeGreaterThanOrEqual(first!.send_ms + 50 + 5 * 10 - CLOCK_SLACK_MS);
      expect(second!.queue_wait_ms).toBeGreaterThan(50);
      expect(second!.in_tokens).toBeGreaterThan(first!.in_tokens);
      const truth = await readJsonl<TruthEntry>(sessionTruth);
      const secondPrompt = truth.find((t) => t.output_tokens === 4)!.prompt!;
      expect(secondPrompt).toContain("First question about rivers.");
      expect(secondPrompt).toContain("Second question about lakes.");
      // the request on its own was not held back by the session
      const alone = sessionRecords.find((r) => r.conversation !== "s")!;
      expect(alone.queue_wait_ms).toBeLessThan(second!.queue_wait_ms);
    } finally {
      await sessionMock.stop();
    }
  }, 60_000);
});
