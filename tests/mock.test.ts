import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { DELIVERY_TOLERANCE_MS, serverTimings, type TruthTiming } from "./helpers/truth.ts";

async function completion(url: string, body: Record<string, unknown>): Promise<{ status: number; events: string[] }> {
  const response = await fetch(`${url}/v1/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  const events = text.split("\n\n").filter((block) => block.startsWith("data: ")).map((block) => block.slice(6));
  return { status: response.status, events };
}

describe("llmbench mock speaks OpenAI completions", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--model", "sim-7b"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("with ignore_eos it writes exactly max_tokens tokens, then usage, then [DONE]", async () => {
    const { status, events } = await completion(mock.url, {
      model: "sim-7b", prompt: "Hello there, simulator", max_tokens: 7, ignore_eos: true, stream: true,
      stream_options: { include_usage: true },
    });
    expect(status).toBe(200);
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    const tokenChunks = chunks.filter((c) => c.choices.length > 0);
    expect(tokenChunks.length).toBe(7);
    for (const c of tokenChunks) expect(c.choices[0].text.length).toBeGreaterThan(0);
    expect(tokenChunks.at(-1).choices[0].finish_reason).toBe("length");
    expect(chunks.at(-1).usage).toEqual({ prompt_tokens: 6, completion_tokens: 7, total_tokens: 13 });
  });

  test("continuous usage stats give the cumulative count in every chunk", async () => {
    const { events } = await completion(mock.url, {
      prompt: "x", max_tokens: 4, ignore_eos: true, stream: true,
      stream_options: { include_usage: true, continuous_usage_stats: true },
    });
    const counts = events.slice(0, -1).map((e) => JSON.parse(e).usage.completion_tokens);
    expect(counts).toEqual([1, 2, 3, 4, 4]);
  });

  test("without ignore_eos it may stop early, but never before min_tokens nor after max_tokens", async () => {
    for (const prompt of ["a", "bb", "some other prompt", "yet another one"]) {
      const { events } = await completion(mock.url, { prompt, max_tokens: 50, min_tokens: 3, stream: true });
      const tokens = events.filter((e) => e !== "[DONE]").length;
      expect(tokens).toBeGreaterThanOrEqual(3);
      expect(tokens).toBeLessThanOrEqual(50);
    }
  });

  test("bad requests get an OpenAI-style error; models and health answer", async () => {
    const bad = await fetch(`${mock.url}/v1/completions`, { method: "POST", body: JSON.stringify({ prompt: "x", max_tokens: 0, stream: true }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { message: string }).message).toContain("max_tokens");
    const models = (await (await fetch(`${mock.url}/v1/models`)).json()) as { data: { id: string }[] };
    expect(models.data[0].id).toBe("sim-7b");
    expect((await fetch(`${mock.url}/health`)).status).toBe(200);
  });
});

describe("timing models", () => {
  test("several tokens per event: TPOT and per-token ITL still match the configured ITL", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    const mock = await startMock(["--ttft-ms", "30", "--itl-ms", "5", "--tokens-per-event", "4", "--truth-log", truthPath]);
    try {
      const result = await runCli([
        "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "32",
        "--num-clients", "4", "--num-requests", "8", "--result-dir", dir,
      ]);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.avg_outlen).toBe(32);
      expect(summary.tokens_per_event).toBe(4);
      // events every 4 × 5 ms, each token a quarter of the gap: what the server did. A client that is
      // late for one event sees the next one sooner, so only the server's own gaps are bounded below.
      const server = serverTimings(await readJsonl<TruthTiming>(truthPath));
      expect(server.itl).toBeGreaterThanOrEqual(5 - 0.05);
      expect(Math.abs(summary.mean_itl - server.itl)).toBeLessThan(DELIVERY_TOLERANCE_MS / 31);
      // TPOT = (E2E − TTFT) / 31 = 7 gaps × 20 ms / 31 on the server
      expect(server.tpot).toBeGreaterThanOrEqual(140 / 31 - 0.05);
      expect(Math.abs(summary.mean_tpot - server.tpot)).toBeLessThan(DELIVERY_TOLERANCE_MS / 31);
      const records = await readJsonl<{ events: [number, number][] }>(join(dir, "requests.jsonl"));
      for (const r of records) expect(r.events.map(([, n]) => n)).toEqual([4, 4, 4, 4, 4, 4, 4, 4]);
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("the batching model: TPOT grows with the batch, TTFT includes the prefill", async () => {
    const dir = tempDir();
    const truth = join(dir, "truth.jsonl");
    // step 10 ms + 1 ms per running sequence; prefill 1,000 prompt tokens/s
    const mock = await startMock(["--step-ms", "10", "--step-ms-per-seq", "1", "--prefill-tps", "1000", "--truth-log", truth]);
    try {
      const run = async (clients: number, name: string) => {
        const result = await runCli([
          "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "20",
          "--num-clients", String(clients), "--num-requests", String(clients * 2), "--ramp-up-time", "0", "--result-dir", join(dir, name),
        ]);
        expect(result.exitCode).toBe(0);
        return Bun.file(join(dir, name, "summary.json")).json();
      };
      const one = await run(1, "one");
      const many = await run(16, "many");
      // one sequence alone: each step 10 + 1 = 11 ms. After a late timer the model starts the next
      // step up to 1 ms in the past (timing.ts), and the client may see the first token a little
      // late: on a loaded machine the mean of 19 gaps dips a few hundredths below 11.
      expect(one.mean_tpot).toBeGreaterThanOrEqual(10.5);
      expect(one.mean_tpot).toBeLessThan(16); // late timers on a loaded machine add a little
      // sixteen together: steps of 10 + 16 = 26 ms at least while all run
      expect(many.mean_tpot).toBeGreaterThan(20);
      // a lone request's TTFT is its prefill (prompt tokens / 1,000 per s) plus one step
      const entries = await readJsonl<{ arrival_ms: number; token_ms: number[]; prompt_tokens: number }>(truth);
      const first = entries[0]!;
      const expectedTtft = first.prompt_tokens + 11;
      expect(first.token_ms[0]! - first.arrival_ms).toBeGreaterThanOrEqual(expectedTtft - 1);
      expect(first.token_ms[0]! - first.arrival_ms).toBeLessThan(expectedTtft + 50);
    } finally {
      await mock.stop();
    }
  }, 60_000);
});
