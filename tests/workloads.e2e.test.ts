import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tokenText } from "../src/mock/generation.ts";
import { loadTokenizer } from "../src/dataset/tokenizer.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, median } from "./helpers/truth.ts";

interface Record_ {
  user: number;
  seq: number;
  turn: number;
  conversation: string;
  prompt_index: number;
  status: string;
  error: string | null;
  send_ms: number;
  in_tokens: number;
  out_tokens: number;
  asked_out_tokens: number;
  short: boolean;
  queue_wait_ms: number;
}
interface Truth {
  arrival_ms: number;
  end_ms: number;
  prompt?: string;
  output_tokens: number;
}

/** A system prompt of our own, written by the test: a few hundred tokens of instructions. */
const SYSTEM_PROMPT_TEXT = Array.from({ length: 40 }, (_, i) => `Rule ${i + 1}: answer politely, cite sources where you can, and keep each answer under ${100 + i} words.`).join("\n");
let SYSTEM_PROMPT: string;

let mock: MockHandle;
let truthPath: string;
let root: string;
beforeAll(async () => {
  root = tempDir();
  truthPath = join(root, "truth.jsonl");
  SYSTEM_PROMPT = join(root, "system_prompt.txt");
  writeFileSync(SYSTEM_PROMPT, SYSTEM_PROMPT_TEXT);
  mock = await startMock(["--ttft-ms", "20", "--itl-ms", "2", "--truth-log", truthPath, "--log-prompts"]);
});
afterAll(async () => {
  await mock?.stop();
});

async function run(name: string, ...args: string[]) {
  const dir = join(root, name);
  const result = await runCli(["run", "--base-url", mock.url, "--model", "m", "--result-dir", dir, "--no-progress", ...args]);
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  const summary = result.exitCode === 2 ? null : await Bun.file(join(dir, "summary.json")).json();
  const records = result.exitCode === 2 ? [] : await readJsonl<Record_>(join(dir, "requests.jsonl"));
  return { ...result, summary, records };
}

async function truthCount(): Promise<number> {
  return (await Bun.file(truthPath).exists()) ? (await readJsonl<Truth>(truthPath)).length : 0;
}

async function truthSince(count: number): Promise<Truth[]> {
  return (await readJsonl<Truth>(truthPath)).slice(count);
}

describe("request-rate mode", () => {
  test("Poisson arrivals at 50 requests/s: qps within 15 %, and the same schedule for the same seed", async () => {
    const args = ["--dataset-path", DATASET, "--output-len", "4", "--request-rate", "50", "--num-requests", "200"];
    const first = await run("rate-a", ...args, "--seed", "11");
    expect(first.exitCode).toBe(0);
    expect(first.summary.completed).toBe(200);
    expect(first.summary.qps).toBeGreaterThan(50 * 0.85);
    expect(first.summary.qps).toBeLessThan(50 * 1.15);
    expect(first.summary.request_rate).toBe(50);
    expect(first.summary.mean_concurrency).toBeGreaterThan(0.5);

    const offsets = (records: Record_[]) => {
      const sorted = records.map((r) => r.send_ms).sort((a, b) => a - b);
      return sorted.map((t) => t - sorted[0]!);
    };
    const again = await run("rate-b", ...args, "--seed", "11");
    const other = await run("rate-c", ...args, "--seed", "12");
    const a = offsets(first.records);
    const b = offsets(again.records);
    const c = offsets(other.records);
    // request j's prompt depends only on (seed, j)
    const prompts = (records: Record_[]) => records.sort((x, y) => x.user - y.user).map((r) => r.prompt_index);
    expect(prompts(first.records)).toEqual(prompts(again.records));
    // the same seed sends on the same schedule (a loaded machine may hold a few sends back: the
    // median is what says "same schedule"); another seed's Poisson gaps put its sends far apart
    const medianGap = (x: number[], y: number[]) => median(x.map((t, i) => Math.abs(t - y[i]!)));
    // (at 50/s, two seeds' k-th sends differ by about 20 ms × √(2k): a median near 190 ms)
    expect(medianGap(a, b)).toBeLessThan(50);
    expect(medianGap(a, c)).toBeGreaterThan(100);
  }, 60_000);

  test("a concurrency cap holds arrivals in the client, and the wait is reported beside the real send time", async () => {
    const before = await truthCount();
    const result = await run("cap", "--dataset-path", DATASET, "--output-len", "20", "--request-rate", "inf", "--num-requests", "16", "--max-concurrency", "4");
    expect(result.exitCode).toBe(0);
    expect(result.summary.completed).toBe(16);
    expect(result.summary.max_concurrency).toBe(4);
    // four waves of about 20 + 19 × 2 = 58 ms: the last four waited about three waves
    const waits = result.records.map((r) => r.queue_wait_ms).sort((x, y) => x - y);
    expect(waits[0]!).toBeLessThan(50); // the first four found a free slot at once
    expect(waits.at(-1)!).toBeGreaterThan(150);
    expect(result.summary.queue_wait_ms.max).toBeCloseTo(waits.at(-1)!, 6);
    // the server never saw more than four at once
    const truth = await truthSince(before);
    expect(truth.length).toBe(16);
    const edges = truth.flatMap((t): [number, number][] => [[t.arrival_ms, 1], [t.end_ms, -1]]).sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let inFlight = 0;
    let peak = 0;
    for (const [, change] of edges) peak = Math.max(peak, (inFlight += change));
    expect(peak).toBeLessThanOrEqual(4);
  }, 30_000);
});

describe("multi-turn conversations", () => {
  test("each turn sends the history with the simulator's real answers; input grows turn by turn", async () => {
    const before = await truthCount();
    const result = await run("turns", "--dataset-path", DATASET, "--output-len", "8", "--num-clients", "1", "--num-requests", "6", "--num-turns", "3");
    expect(result.exitCode).toBe(0);
    expect(result.records.map((r) => r.turn)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(result.records.map((r) => r.conversation)).toEqual(["0.0", "0.0", "0.0", "0.1", "0.1", "0.1"]);
    const [t0, t1, t2] = result.records;
    expect(t1!.in_tokens).toBeGreaterThan(t0!.in_tokens);
    expect(t2!.in_tokens).toBeGreaterThan(t1!.in_tokens);

    const prompts = (await truthSince(before)).map((t) => t.prompt!);
    const answer = Array.from({ length: 8 }, (_, i) => tokenText(i)).join("");
    expect(prompts[1]!.startsWith(prompts[0]!)).toBe(true);
    expect(prompts[1]!).toContain(`${prompts[0]!}\n\n${answer}\n\n`);
    expect(prompts[2]!.startsWith(prompts[1]!)).toBe(true);
    expect(prompts[2]!.split(answer).length - 1).toBe(2);

    expect(result.summary.per_turn.map((t: { turn: number; requests: number }) => [t.turn, t.requests])).toEqual([[0, 2], [1, 2], [2, 2]]);
    expect(result.summary.per_turn[2].avg_inlen).toBeGreaterThan(result.summary.per_turn[0].avg_inlen);
  }, 30_000);
});

describe("system prompt, goodput, warm-up, short answers", () => {
  test("the system prompt raises every request's input tokens by its token count", async () => {
    const tokenizer = await loadTokenizer("cl100k_base");
    const systemTokens = tokenizer.count(await Bun.file(SYSTEM_PROMPT).text());
    const args = ["--dataset-path", DATASET, "--output-len", "2", "--num-clients", "4", "--num-requests", "40", "--ramp-up-time", "0"];
    const without = await run("no-system", ...args);
    const withSystem = await run("system", ...args, "--system-prompt-path", SYSTEM_PROMPT);
    expect(withSystem.summary.system_prompt_tokens).toBe(systemTokens);
    // each user's prompts are the same sequence in both runs (how far each user got depends on the machine's pace)
    const bySlot = (records: Record_[]) => new Map(records.map((r) => [`${r.user}.${r.seq}`, r]));
    const plain = bySlot(without.records);
    const common = [...bySlot(withSystem.records)].filter(([slot]) => plain.has(slot));
    expect(common.length).toBeGreaterThanOrEqual(30);
    for (const [slot, record] of common) {
      const before = plain.get(slot)!;
      expect(record.prompt_index).toBe(before.prompt_index);
      // the same prompt, raised by the system prompt's tokens, plus at most a token or two where
      // the "\n\n" separator meets the prompt
      const raised = record.in_tokens - before.in_tokens;
      expect(raised).toBeGreaterThanOrEqual(systemTokens);
      expect(raised).toBeLessThanOrEqual(systemTokens + 2);
    }
  }, 30_000);

  test("goodput: 100 % with an SLO the simulator always meets, 0 with one it never meets", async () => {
    const args = ["--dataset-path", DATASET, "--output-len", "5", "--num-clients", "4", "--num-requests", "20"];
    const always = await run("good", ...args, "--goodput", "ttft:5000,tpot:1000");
    expect(always.summary.goodput_ratio).toBe(1);
    expect(always.summary.goodput).toBeCloseTo(always.summary.qps, 6);
    const never = await run("bad", ...args, "--goodput", "ttft:5");
    expect(never.summary.goodput_ratio).toBe(0);
    expect(never.summary.goodput).toBe(0);
  }, 30_000);

  test("warm-up requests reach the server but not the results", async () => {
    const before = await truthCount();
    const result = await run("warm", "--dataset-path", DATASET, "--output-len", "3", "--num-clients", "2", "--num-requests", "6", "--warmup-requests", "5");
    expect(result.exitCode).toBe(0);
    expect(result.records.length).toBe(6);
    expect(result.summary.completed).toBe(6);
    expect((await truthSince(before)).length).toBe(11);
  }, 30_000);

  test("answers shorter than asked are counted and marked", async () => {
    const capped = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--max-output-tokens", "10"]);
    try {
      const dir = join(root, "short");
      const result = await runCli(["run", "--base-url", capped.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "25",
        "--num-clients", "2", "--num-requests", "6", "--result-dir", dir]);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.short_outputs).toBe(6);
      expect(summary.avg_outlen).toBe(10);
      for (const r of await readJsonl<Record_>(join(dir, "requests.jsonl"))) {
        expect(r.short).toBe(true);
        expect(r.asked_out_tokens).toBe(25);
      }
      expect(result.stdout).toContain("6 answers came back shorter than asked");
    } finally {
      await capped.stop();
    }
  }, 30_000);

  test("steady-state statistics leave out the ramp-up", async () => {
    const result = await run("steady", "--dataset-path", DATASET, "--output-len", "10", "--num-clients", "4", "--ramp-up-time", "0.4", "--stop-time", "1.2");
    expect(result.exitCode).toBe(0);
    const steady = result.summary.steady;
    expect(steady.completed).toBeGreaterThan(0);
    expect(steady.completed).toBeLessThan(result.summary.completed);
    // the window opens when the last user has started (0.4 s in) and closes at the stop; a slow
    // start moves both, so the records are checked against the window the run reports
    const [from, to] = result.summary.steady_window_ms as [number, number];
    const firstSend = Math.min(...result.records.map((r) => r.send_ms));
    expect(from - firstSend).toBeLessThanOrEqual(400 + CLOCK_SLACK_MS);
    expect(from).toBeLessThan(to);
    const inWindow = result.records.filter((r) => r.send_ms >= from && r.send_ms < to && r.status === "ok").length;
    expect(steady.completed).toBe(inWindow);
  }, 30_000);
});

describe("datasets", () => {
  test("synthetic prompts have exactly the asked input length", async () => {
    const result = await run("synthetic", "--dataset", "synthetic", "--input-len", "100", "--output-len", "6", "--num-clients", "2", "--num-requests", "10");
    expect(result.exitCode).toBe(0);
    expect(result.summary.avg_inlen).toBe(100);
    expect(result.summary.max_inlen).toBe(100);
    expect(result.summary.avg_outlen).toBe(6);
  }, 30_000);

  test("JSONL prompts ask for their own output_len", async () => {
    const path = join(root, "lines.jsonl");
    writeFileSync(path, Array.from({ length: 20 }, (_, i) => JSON.stringify({ prompt: `Question number ${i}?`, output_len: i + 1 })).join("\n"));
    const result = await run("jsonl", "--dataset-path", path, "--num-clients", "3", "--num-requests", "12");
    expect(result.exitCode).toBe(0);
    for (const r of result.records) {
      expect(r.asked_out_tokens).toBe(r.prompt_index + 1);
      expect(r.out_tokens).toBe(r.prompt_index + 1);
    }
  }, 30_000);

  test("input-length filters apply, and a dataset empty after filtering is an error before any request", async () => {
    const filtered = await run("filtered", "--dataset-path", DATASET, "--output-len", "2", "--num-clients", "2", "--num-requests", "20", "--max-input-len", "30");
    expect(filtered.exitCode).toBe(0);
    for (const r of filtered.records) expect(r.in_tokens).toBeLessThanOrEqual(30);
    const before = await truthCount();
    const empty = await run("empty", "--dataset-path", DATASET, "--output-len", "2", "--num-requests", "5", "--min-input-len", "1000000");
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr).toContain("no usable entry");
    expect(empty.stderr).toContain("shorter than --min-input-len");
    expect(await truthCount()).toBe(before);
  }, 30_000);

  test("conflicting workload flags are refused by name", async () => {
    const both = await run("conflict", "--dataset-path", DATASET, "--num-requests", "5", "--request-rate", "5", "--num-clients", "2");
    expect(both.exitCode).toBe(2);
    expect(both.stderr).toContain("--request-rate and --num-clients");
    const turns = await run("conflict2", "--dataset-path", DATASET, "--num-requests", "5", "--request-rate", "5", "--num-turns", "2");
    expect(turns.exitCode).toBe(2);
    expect(turns.stderr).toContain("--num-turns works with --num-clients");
    const synthetic = await run("conflict3", "--dataset", "synthetic", "--input-len", "10", "--num-requests", "5");
    expect(synthetic.exitCode).toBe(2);
    expect(synthetic.stderr).toContain("--dataset synthetic needs --output-len");
  });
});
