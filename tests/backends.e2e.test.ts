import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS, deliveryLags, mean, median, serverTimings } from "./helpers/truth.ts";

/**
 * Every backend against the simulator speaking its wire format, with fixed timing: the same
 * workload must give the same measurements whatever the protocol.
 */

const TTFT_MS = 30;
const ITL_MS = 5;
const OUTPUT_LEN = 24;
const REQUESTS = 16;
/** How far a mean over the answer's gaps may move when its first or last token is seen late. */
const GAP_TOLERANCE_MS = DELIVERY_TOLERANCE_MS / (OUTPUT_LEN - 1);

interface BackendCase {
  backend: string;
  /** The simulator protocol it talks to. */
  protocol: string;
  args?: string[];
  /** What the record's finish_reason says. */
  finishReason: string | null;
  /** Whether the protocol reports the prompt's token count. */
  reportsPromptTokens: boolean;
}

const CASES: BackendCase[] = [
  { backend: "vllm", protocol: "vllm", finishReason: "length", reportsPromptTokens: true },
  { backend: "openai-chat", protocol: "openai-chat", finishReason: "length", reportsPromptTokens: true },
  { backend: "lightllm", protocol: "lightllm", finishReason: "length", reportsPromptTokens: true },
  { backend: "ppl", protocol: "ppl", finishReason: "length", reportsPromptTokens: false },
  { backend: "ppl", protocol: "ppl-v1", args: ["--ppl-proto", "v1"], finishReason: "finished", reportsPromptTokens: false },
  { backend: "sglang", protocol: "sglang", finishReason: "length", reportsPromptTokens: true },
  { backend: "tgi", protocol: "tgi", finishReason: "length", reportsPromptTokens: true },
  { backend: "trtllm", protocol: "trtllm", finishReason: null, reportsPromptTokens: false },
  { backend: "llamacpp", protocol: "llamacpp", finishReason: "limit", reportsPromptTokens: true },
  { backend: "amsv2", protocol: "amsv2", finishReason: "length", reportsPromptTokens: true },
];

/** tgi and amsv2 have no ignore-eos: their simulator is told to run every answer to its max tokens. */
const NO_IGNORE_EOS = new Set(["tgi", "amsv2"]);
const ALL_PROTOCOLS = CASES.map((c) => c.protocol).join(",");

interface TruthEntry {
  protocol: string;
  arrival_ms: number;
  token_ms: number[];
  end_ms: number;
  output_tokens: number;
}

interface RecordLine {
  status: string;
  error: string | null;
  send_ms: number;
  ttft_ms: number;
  e2e_ms: number;
  out_tokens: number;
  server_in_tokens: number | null;
  finish_reason: string | null;
  events: [number, number][];
}


async function runBackend(url: string, c: BackendCase, dir: string, extra: string[] = []) {
  const result = await runCli([
    "run", "--backend", c.backend, "--base-url", url, "--model", "mock-model", "--dataset-path", DATASET,
    "--num-clients", "4", "--num-requests", String(REQUESTS), "--output-len", String(OUTPUT_LEN), "--ramp-up-time", "0.2",
    "--result-dir", dir, "--no-progress", ...(c.args ?? []), ...extra,
  ], { env: { OPENAI_API_KEY: "", AMSV2_API_KEY: "" } });
  if (result.exitCode !== 0) console.error(c.backend, result.stdout, result.stderr);
  return result;
}

describe("every backend measures its simulator the same way (--ttft-ms 30 --itl-ms 5)", () => {
  let mock: MockHandle;
  let mockNoEos: MockHandle;
  let root: string;
  const truthPath = () => join(root, "truth.jsonl");

  beforeAll(async () => {
    root = tempDir();
    const timing = ["--ttft-ms", String(TTFT_MS), "--itl-ms", String(ITL_MS), "--truth-log", truthPath()];
    mock = await startMock(["--protocol", ALL_PROTOCOLS, ...timing]);
    mockNoEos = await startMock(["--protocol", "tgi,amsv2", "--ttft-ms", String(TTFT_MS), "--itl-ms", String(ITL_MS), "--ignore-eos"]);
  });
  afterAll(async () => {
    await mock?.stop();
    await mockNoEos?.stop();
  });

  for (const c of CASES) {
    test(`${c.backend} over ${c.protocol}: completed, exact length, TTFT, TPOT and ITL as configured`, async () => {
      const url = NO_IGNORE_EOS.has(c.backend) ? mockNoEos.urls[c.protocol]! : mock.urls[c.protocol]!;
      const dir = join(root, c.protocol);
      const result = await runBackend(url, c, dir);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.completed).toBe(REQUESTS);
      expect(summary.failed).toBe(0);
      expect(summary.avg_outlen).toBe(OUTPUT_LEN);
      expect(summary.max_outlen).toBe(OUTPUT_LEN);
      expect(summary.tokens_per_event).toBe(1);
      // the first token leaves 30 ms after arrival, never sooner; what a loaded machine adds is
      // checked against the truth log below
      expect(summary.mean_ttft).toBeGreaterThanOrEqual(TTFT_MS);
      // a client late for one token sees the next one sooner: the gaps are held to the truth log below,
      // here only to what no miscounting could give
      expect(summary.mean_tpot).toBeGreaterThan(ITL_MS / 2);
      expect(summary.mean_itl).toBeGreaterThan(ITL_MS / 2);

      const records = await readJsonl<RecordLine>(join(dir, "requests.jsonl"));
      expect(records.length).toBe(REQUESTS);
      for (const record of records) {
        expect(record.status).toBe("ok");
        expect(record.out_tokens).toBe(OUTPUT_LEN);
        expect(record.events.length).toBe(OUTPUT_LEN);
        expect(record.finish_reason).toBe(c.finishReason);
        if (c.reportsPromptTokens) expect(record.server_in_tokens as number).toBeGreaterThan(0);
        else expect(record.server_in_tokens).toBeNull();
      }
    });
  }

  test("the client saw each first token within a few ms of when the simulator wrote it, for every protocol", async () => {
    const truth = await readJsonl<TruthEntry>(truthPath());
    for (const c of CASES.filter((c) => !NO_IGNORE_EOS.has(c.backend))) {
      const written = truth.filter((t) => t.protocol === c.protocol && t.output_tokens === OUTPUT_LEN);
      expect(written.length).toBe(REQUESTS);
      const records = await readJsonl<RecordLine>(join(root, c.protocol, "requests.jsonl"));
      const lags = deliveryLags(records, written);
      expect(Math.min(...lags.first)).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
      expect(median(lags.first)).toBeLessThan(DELIVERY_TOLERANCE_MS);
      const summary = await Bun.file(join(root, c.protocol, "summary.json")).json();
      const server = serverTimings(written);
      expect(summary.mean_ttft - server.ttft).toBeLessThan(DELIVERY_TOLERANCE_MS);
      // TPOT and ITL span first token to last: a first token seen δ late shortens that request's
      // TPOT by δ / (OUTPUT_LEN − 1), a last one lengthens it. So the summary's figures are the
      // server's, plus exactly the lags' difference spread over the gaps (any miscount breaks that),
      // and the lags are held as above, by their median: one request held back on a loaded machine
      // must not decide it
      expect(Math.min(...lags.last)).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
      expect(median(lags.last)).toBeLessThan(DELIVERY_TOLERANCE_MS);
      const spread = (mean(lags.last) - mean(lags.first)) / (OUTPUT_LEN - 1);
      expect(summary.mean_tpot - server.tpot).toBeCloseTo(spread, 4);
      expect(summary.mean_itl - server.itl).toBeCloseTo(spread, 4);
    }
  });
});

describe("events carrying several tokens give ITL per token (--tokens-per-event 4)", () => {
  let mock: MockHandle;
  let truthPath: string;
  beforeAll(async () => {
    truthPath = join(tempDir(), "truth.jsonl");
    mock = await startMock(["--protocol", "vllm,openai-chat,sglang,llamacpp", "--ttft-ms", "30", "--itl-ms", "5", "--tokens-per-event", "4", "--truth-log", truthPath]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  for (const backend of ["vllm", "openai-chat", "sglang", "llamacpp"]) {
    test(`${backend}: each 4-token event counts 4 tokens, ITL is a quarter of the event gap`, async () => {
      const dir = tempDir();
      const result = await runBackend(mock.urls[backend]!, { backend, protocol: backend, finishReason: null, reportsPromptTokens: true }, dir);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.avg_outlen).toBe(OUTPUT_LEN);
      expect(summary.tokens_per_event).toBe(4);
      // TPOT = (E2E − TTFT) / 23 = 5 gaps of 20 ms / 23 on the server; the client sees what it did
      const written = (await readJsonl<TruthEntry>(truthPath)).filter((t) => t.protocol === backend);
      expect(written.length).toBe(REQUESTS);
      const server = serverTimings(written);
      expect(server.tpot).toBeGreaterThan(100 / 23 - 0.05);
      expect(server.itl).toBeGreaterThan(5 - 0.05);
      expect(Math.abs(summary.mean_tpot - server.tpot)).toBeLessThan(GAP_TOLERANCE_MS);
      expect(Math.abs(summary.mean_itl - server.itl)).toBeLessThan(GAP_TOLERANCE_MS);
      const records = await readJsonl<RecordLine>(join(dir, "requests.jsonl"));
      for (const record of records) expect(record.events.map(([, n]) => n)).toEqual([4, 4, 4, 4, 4, 4]);
    });
  }
});

describe("servers without ignore-eos may answer short: the server's own count is what is recorded", () => {
  test("tgi and amsv2 report the natural length from details.generated_tokens", async () => {
    const mock = await startMock(["--protocol", "tgi,amsv2", "--ttft-ms", "5", "--itl-ms", "1"]);
    try {
      for (const backend of ["tgi", "amsv2"]) {
        const dir = tempDir();
        const result = await runBackend(mock.urls[backend]!, { backend, protocol: backend, finishReason: null, reportsPromptTokens: true }, dir);
        expect(result.exitCode).toBe(0);
        const records = await readJsonl<RecordLine>(join(dir, "requests.jsonl"));
        expect(records.length).toBe(REQUESTS);
        const short = records.filter((r) => r.out_tokens < OUTPUT_LEN);
        expect(short.length).toBeGreaterThan(0);
        for (const r of records) {
          expect(r.status).toBe("ok");
          expect(r.events.length).toBe(r.out_tokens);
          expect(r.finish_reason).toBe(r.out_tokens < OUTPUT_LEN ? "eos_token" : "length");
        }
      }
    } finally {
      await mock.stop();
    }
  });
});

describe("a mid-stream error fails the request with the server's message (--fail-after-tokens 5)", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    // --ignore-eos: tgi and amsv2 cannot ask for it, and a short natural answer would end before the fault
    mock = await startMock(["--protocol", ALL_PROTOCOLS, "--ttft-ms", "5", "--itl-ms", "2", "--fail-after-tokens", "5", "--ignore-eos"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  for (const c of CASES) {
    test(`${c.backend} over ${c.protocol}`, async () => {
      const dir = tempDir();
      const result = await runCli([
        "run", "--backend", c.backend, "--base-url", mock.urls[c.protocol]!, "--model", "m", "--dataset-path", DATASET,
        "--num-clients", "2", "--num-requests", "4", "--output-len", "12", "--result-dir", dir, "--no-progress", ...(c.args ?? []),
      ], { env: { OPENAI_API_KEY: "", AMSV2_API_KEY: "" } });
      expect(result.exitCode).toBe(1); // nothing completed
      const records = await readJsonl<RecordLine>(join(dir, "requests.jsonl"));
      expect(records.length).toBe(4);
      for (const record of records) {
        expect(record.status).toBe("failed");
        expect(record.error).toContain("simulated failure after 5 tokens");
        // what was measured before the error is kept
        expect(record.events.reduce((sum, [, n]) => sum + n, 0)).toBe(5);
      }
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(Object.values(summary.failures as Record<string, number>)).toEqual([4]);
    });
  }
});
