import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { tokenText } from "../src/mock/generation.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { DELIVERY_TOLERANCE_MS, mean } from "./helpers/truth.ts";

interface Truth {
  protocol: string;
  arrival_ms: number;
  token_ms: number[];
  prompt_tokens: number;
  cached_tokens: number;
  prompt?: string;
}
interface Record_ {
  turn: number;
  send_ms: number;
  ttft_ms: number;
  cached_tokens: number | null;
}

const OUTPUT_LEN = 4;
/** Prefill is slow next to a decode step, so a prompt's uncached tokens decide its TTFT. */
const PREFILL_TPS = 2000;

/** Chats about a document: a long first message (about 400 simulated tokens, unique per entry), then short follow-ups. */
function documentChats(path: string): void {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"];
  const lines = Array.from({ length: 8 }, (_, i) => {
    const document = `Document ${i}: ` + Array.from({ length: 260 }, (_, w) => words[(w * (i + 3) + i) % words.length]).join(" ");
    const turns = [`${document}\nSummarise it.`, `What is word ${i + 3}?`, `And word ${i + 7}?`];
    return JSON.stringify({ messages: turns.flatMap((content) => [{ role: "user", content }, { role: "assistant", content: "ok" }]) });
  });
  writeFileSync(path, lines.join("\n") + "\n");
}

/** A system prompt of a few hundred tokens, written by the test. */
const SYSTEM_PROMPT_TEXT = Array.from({ length: 30 }, (_, i) => `Rule ${i + 1}: answer politely and briefly, in under ${50 + i} words.`).join("\n");

let mock: MockHandle;
let root: string;
let truthPath: string;
let chats: string;
let systemPrompt: string;
beforeAll(async () => {
  root = tempDir();
  truthPath = join(root, "truth.jsonl");
  chats = join(root, "chats.jsonl");
  systemPrompt = join(root, "system.txt");
  documentChats(chats);
  writeFileSync(systemPrompt, SYSTEM_PROMPT_TEXT);
  mock = await startMock([
    "--protocol", "openai-chat,vllm,sglang", "--prefix-cache", "--prefill-tps", String(PREFILL_TPS), "--step-ms", "2",
    "--truth-log", truthPath, "--log-prompts",
  ]);
});
afterAll(async () => {
  await mock?.stop();
});

async function truthSince(count: number, protocol: string): Promise<Truth[]> {
  const all = (await Bun.file(truthPath).exists()) ? await readJsonl<Truth>(truthPath) : [];
  return all.slice(count).filter((t) => t.protocol === protocol);
}
async function truthCount(): Promise<number> {
  return (await Bun.file(truthPath).exists()) ? (await readJsonl<Truth>(truthPath)).length : 0;
}

async function run(name: string, backend: string, url: string, ...args: string[]) {
  const dir = join(root, name);
  const result = await runCli(["run", "--backend", backend, "--base-url", url, "--model", "m", "--output-len", String(OUTPUT_LEN), "--result-dir", dir, "--no-progress", ...args]);
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  expect(result.exitCode).toBe(0);
  return { stdout: result.stdout, summary: await Bun.file(join(dir, "summary.json")).json(), records: await readJsonl<Record_>(join(dir, "requests.jsonl")) };
}

const truthRate = (truth: Truth[]) => truth.reduce((s, t) => s + t.cached_tokens, 0) / truth.reduce((s, t) => s + t.prompt_tokens, 0);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

describe("prefix caching, measured end to end", () => {
  test("multi-turn chats: the hit rate is the truth log's, and later turns (their history cached) answer sooner than first turns", async () => {
    const before = await truthCount();
    const { summary, records, stdout } = await run("turns", "openai-chat", mock.urls["openai-chat"]!, "--dataset-path", chats, "--num-clients", "2", "--num-requests", "12", "--num-turns", "3");
    const truth = await truthSince(before, "openai-chat");
    expect(truth.length).toBe(12);
    expect(summary.completed).toBe(12);

    // the server's counters over the point are exactly what the simulator did
    expect(summary.server_gauges.prefix_cache).toEqual({
      queried_tokens: sum(truth.map((t) => t.prompt_tokens)),
      hit_tokens: sum(truth.map((t) => t.cached_tokens)),
      hit_rate: expect.closeTo(truthRate(truth), 12) as unknown as number,
    });
    expect(summary.prefix_cache_hit_rate).toBeCloseTo(truthRate(truth), 12);
    expect(summary.prefix_cache_hit_rate).toBeGreaterThan(0.5);
    // and so is every request's usage
    expect(sum(records.map((r) => r.cached_tokens!))).toBe(sum(truth.map((t) => t.cached_tokens)));
    expect(summary.total_cached_tokens).toBe(sum(truth.map((t) => t.cached_tokens)));
    expect(stdout).toContain("prefix     hit rate");

    // the server's side: a turn's number is how many answers its history carries
    const answer = Array.from({ length: OUTPUT_LEN }, (_, i) => tokenText(i)).join("");
    const turnOf = (t: Truth) => t.prompt!.split(answer).length - 1;
    const serverTtft = (turn: number) => mean(truth.filter((t) => turnOf(t) === turn).map((t) => t.token_ms[0]! - t.arrival_ms));
    for (const t of truth) {
      if (turnOf(t) === 0) expect(t.cached_tokens).toBe(0); // every document is new
      else expect(t.cached_tokens).toBeGreaterThan(t.prompt_tokens * 0.8); // the history is cached
    }
    const first = serverTtft(0);
    // a first turn prefills its document (~400 tokens at 2000 tok/s): at least 150 ms on the server
    expect(first).toBeGreaterThan(150);
    for (const turn of [1, 2]) expect(serverTtft(turn)).toBeLessThan(first / 3);

    // the client's per-turn TTFT follows the server's, and shows the same drop
    const perTurn = summary.per_turn as Array<{ turn: number; mean_ttft: number }>;
    for (const { turn, mean_ttft } of perTurn) expect(Math.abs(mean_ttft - serverTtft(turn))).toBeLessThan(DELIVERY_TOLERANCE_MS);
    expect(perTurn[1]!.mean_ttft).toBeLessThan(perTurn[0]!.mean_ttft / 2);
    expect(perTurn[2]!.mean_ttft).toBeLessThan(perTurn[0]!.mean_ttft / 2);
  }, 60_000);

  for (const [backend, protocol] of [["vllm", "vllm"], ["sglang", "sglang"]] as const) {
    test(`a shared system prompt (${backend}): every request after the first hits it, and the hit rate is the truth log's`, async () => {
      const before = await truthCount();
      const { summary, records } = await run(`system-${backend}`, backend, mock.urls[protocol]!, "--dataset-path", DATASET, "--system-prompt-path", systemPrompt, "--num-clients", "3", "--num-requests", "15");
      const truth = (await truthSince(before, protocol)).sort((a, b) => a.arrival_ms - b.arrival_ms);
      expect(truth.length).toBe(15);
      const systemBlocks = Math.floor(SYSTEM_PROMPT_TEXT.length / 64);
      expect(truth[0]!.cached_tokens).toBe(0);
      for (const t of truth.slice(1)) expect(t.cached_tokens).toBeGreaterThanOrEqual(systemBlocks * 16);
      expect(summary.prefix_cache_hit_rate).toBeCloseTo(truthRate(truth), 12);
      expect(summary.server_gauges.prefix_cache.queried_tokens).toBe(sum(truth.map((t) => t.prompt_tokens)));
      expect(sum(records.map((r) => r.cached_tokens!))).toBe(sum(truth.map((t) => t.cached_tokens)));
    }, 60_000);
  }

  test("sizing the cache without turning it on is a usage error", async () => {
    const result = await runCli(["mock", "--port", "0", "--prefix-cache-blocks", "100"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--prefix-cache-blocks and --prefix-block-tokens size the prefix cache: give --prefix-cache too");
    const zero = await runCli(["mock", "--port", "0", "--prefix-cache", "--prefix-block-tokens", "0"]);
    expect(zero.exitCode).toBe(2);
    expect(zero.stderr).toContain("--prefix-block-tokens");
  }, 30_000);
});
