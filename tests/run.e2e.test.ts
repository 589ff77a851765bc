import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { SEED_COLUMNS } from "../src/report/seed-columns.ts";
import { DATASET, llmbenchArgv, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";
import { CLOCK_SLACK_MS, DELIVERY_TOLERANCE_MS, deliveryLags, median, serverTimings } from "./helpers/truth.ts";

interface TruthEntry {
  arrival_ms: number;
  token_ms: number[];
  end_ms: number;
  output_tokens: number;
  prompt_tokens: number;
}


describe("llmbench run against llmbench mock --ttft-ms 50 --itl-ms 10", () => {
  let mock: MockHandle;
  let dir: string;
  let truthPath: string;
  let summary: Record<string, number>;
  let exitCode: number;

  beforeAll(async () => {
    dir = tempDir();
    truthPath = join(dir, "truth.jsonl");
    mock = await startMock(["--ttft-ms", "50", "--itl-ms", "10", "--truth-log", truthPath]);
    const result = await runCli([
      "run", "--backend", "vllm", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET,
      "--num-clients", "16", "--num-requests", "64", "--output-len", "32", "--result-dir", join(dir, "result"),
    ]);
    exitCode = result.exitCode;
    if (exitCode !== 0) console.error(result.stdout, result.stderr);
    summary = await Bun.file(join(dir, "result/summary.json")).json();
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("every request completes with exactly the asked length", () => {
    expect(exitCode).toBe(0);
    expect(summary.completed).toBe(64);
    expect(summary.failed).toBe(0);
    expect(summary.success_rate).toBe(1);
    expect(summary.avg_outlen).toBe(32);
    expect(summary.max_outlen).toBe(32);
  });

  test("TTFT, TPOT and ITL are never faster than configured, and equal the simulator's own timing", async () => {
    // the simulator never writes a token early, so nothing measured can beat the configuration
    expect(summary.mean_ttft).toBeGreaterThanOrEqual(50);
    // (TPOT: less only by the client seeing the first token later than the last, over 31 gaps)
    expect(summary.mean_tpot).toBeGreaterThanOrEqual(10 - DELIVERY_TOLERANCE_MS / 31);
    expect(summary.mean_itl).toBeGreaterThanOrEqual(10 - DELIVERY_TOLERANCE_MS / 31);
    // what the server really did (it may run late on a loaded machine), seen from the client
    const server = serverTimings(await readJsonl<TruthEntry>(truthPath));
    expect(summary.mean_ttft - server.ttft).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
    expect(summary.mean_ttft - server.ttft).toBeLessThan(DELIVERY_TOLERANCE_MS);
    expect(Math.abs(summary.mean_tpot - server.tpot)).toBeLessThan(DELIVERY_TOLERANCE_MS / 31);
    expect(Math.abs(summary.mean_itl - server.itl)).toBeLessThan(DELIVERY_TOLERANCE_MS / 31);
  });

  test("requests.jsonl has one complete line per request", async () => {
    const records = await readJsonl(join(dir, "result/requests.jsonl"));
    expect(records.length).toBe(64);
    for (const record of records) {
      expect(record.status).toBe("ok");
      expect(record.error).toBeNull();
      expect(record.out_tokens).toBe(32);
      expect((record.events as unknown[]).length).toBe(32);
      expect(record.in_tokens as number).toBeGreaterThan(0);
      expect(typeof record.send_ms).toBe("number");
    }
    const users = new Set(records.map((r) => r.user));
    expect(users.size).toBe(16);
  });

  test("client measurements agree with the simulator's truth log", async () => {
    const truth = await readJsonl<TruthEntry>(truthPath);
    const records = await readJsonl<{ send_ms: number; ttft_ms: number; e2e_ms: number }>(join(dir, "result/requests.jsonl"));
    expect(truth.length).toBe(64);
    // A token cannot be seen before the server wrote it, and on loopback it arrives soon after;
    // E2E likewise ends when the last write arrives.
    const lags = deliveryLags(records, truth);
    for (const which of [lags.first, lags.last]) {
      expect(Math.min(...which)).toBeGreaterThanOrEqual(-CLOCK_SLACK_MS);
      expect(median(which)).toBeLessThan(DELIVERY_TOLERANCE_MS);
    }
    expect(Math.abs(summary.mean_tpot - serverTimings(truth).tpot)).toBeLessThan(DELIVERY_TOLERANCE_MS / 31);
    // the server's own prompt counts, summed, are what the simulator says it counted
    expect(summary.server_total_inlen).toBe(truth.reduce((sum, t) => sum + t.prompt_tokens, 0));
    // duration spans at least from the first arrival to the last token written
    const lastWrite = Math.max(...truth.map((t) => t.token_ms.at(-1)!));
    const serverSpan = (lastWrite - Math.min(...truth.map((t) => t.arrival_ms))) / 1000;
    expect(summary.duration_s).toBeGreaterThanOrEqual(serverSpan);
    expect(summary.duration_s).toBeLessThan(serverSpan + (2 * DELIVERY_TOLERANCE_MS) / 1000);
  });

  test("summary.csv starts with the seed's 43 columns in the seed's order, one row", async () => {
    const lines = (await Bun.file(join(dir, "result/summary.csv")).text()).trim().split("\n");
    expect(lines.length).toBe(2);
    const header = lines[0]!.split(",");
    expect(header.slice(0, 43)).toEqual([...SEED_COLUMNS]);
    expect(SEED_COLUMNS.length).toBe(43);
    const row = Object.fromEntries(header.map((name, i) => [name, lines[1]!.split(",")[i]]));
    expect(row.num_clients).toBe("16");
    expect(row.completed).toBe("64");
    expect(row.success_rate).toBe("1.000");
    expect(Number(row.mean_ttft)).toBeCloseTo(summary.mean_ttft, 2);
  });
});

describe("1,000 clients really run at once", () => {
  test("1,000 streams of 2 s each finish in about 2.2 s, all in flight together", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    const mock = await startMock(["--ttft-ms", "2000", "--itl-ms", "10", "--truth-log", truthPath]);
    try {
      const result = await runCli([
        "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "16",
        "--num-clients", "1000", "--num-requests", "1000", "--ramp-up-time", "0", "--result-dir", join(dir, "r"), "--no-progress",
      ]);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "r/summary.json")).json();
      expect(summary.completed).toBe(1000);
      const truth = await readJsonl<TruthEntry>(truthPath);
      expect(truth.length).toBe(1000);
      const lastArrival = Math.max(...truth.map((t) => t.arrival_ms));
      const firstEnd = Math.min(...truth.map((t) => t.end_ms));
      // every request had arrived before the first one ended: 1,000 in flight together
      expect(lastArrival).toBeLessThan(firstEnd);
    } finally {
      await mock.stop();
    }
  }, 60_000);
});

describe("the same seed gives each user the same prompts, whatever the number of users", () => {
  test("users 0..3 send the same sequence with 4 or 64 users, and different users differ", async () => {
    const dir = tempDir();
    const mock = await startMock(["--ttft-ms", "1", "--itl-ms", "1"]);
    try {
      const sequences = async (clients: number, requests: number, name: string) => {
        const result = await runCli([
          "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "2", "--seed", "7",
          "--num-clients", String(clients), "--num-requests", String(requests), "--ramp-up-time", "0", "--result-dir", join(dir, name),
        ]);
        expect(result.exitCode).toBe(0);
        const byUser = new Map<number, number[]>();
        for (const r of await readJsonl<{ user: number; seq: number; prompt_index: number }>(join(dir, name, "requests.jsonl"))) {
          const list = byUser.get(r.user) ?? [];
          list[r.seq] = r.prompt_index;
          byUser.set(r.user, list);
        }
        return byUser;
      };
      const few = await sequences(4, 40, "few");
      const many = await sequences(64, 256, "many");
      for (let user = 0; user < 4; user++) {
        const a = few.get(user)!;
        const b = many.get(user)!;
        const common = Math.min(a.length, b.length);
        expect(common).toBeGreaterThanOrEqual(2);
        expect(a.slice(0, common)).toEqual(b.slice(0, common));
      }
      expect(few.get(0)!.slice(0, 4)).not.toEqual(few.get(1)!.slice(0, 4));
    } finally {
      await mock.stop();
    }
  }, 60_000);
});

describe("faults lose nothing that was measured", () => {
  test("requests still running at the stop time are cancelled after the drain timeout and recorded", async () => {
    const dir = tempDir();
    const mock = await startMock(["--ttft-ms", "20", "--itl-ms", "100"]);
    try {
      const result = await runCli([
        "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "100",
        "--num-clients", "4", "--ramp-up-time", "0.2", "--stop-time", "0.5", "--drain-timeout", "0.5", "--result-dir", dir,
      ]);
      expect(result.exitCode).toBe(1); // nothing completed
      const records = await readJsonl<{ status: string; error: string; events: unknown[] }>(join(dir, "requests.jsonl"));
      expect(records.length).toBe(4);
      for (const r of records) {
        expect(r.status).toBe("failed");
        expect(r.error).toBe("cancelled at stop (drain timeout 0.5 s)");
        expect(r.events.length).toBeGreaterThan(0); // what was measured is kept
      }
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.failures).toEqual({ "cancelled at stop (drain timeout 0.5 s)": 4 });
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("a request past --request-timeout is cancelled and recorded with that reason", async () => {
    const dir = tempDir();
    const mock = await startMock(["--ttft-ms", "60000", "--itl-ms", "10"]);
    try {
      const started = performance.now();
      const result = await runCli([
        "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "4",
        "--num-clients", "2", "--num-requests", "4", "--ramp-up-time", "0", "--request-timeout", "0.3", "--result-dir", dir,
      ]);
      // far sooner than the server's first token: the timeout, not the server, ended the run
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(result.exitCode).toBe(1);
      const records = await readJsonl<{ status: string; error: string }>(join(dir, "requests.jsonl"));
      expect(records.map((r) => [r.status, r.error])).toEqual(Array(4).fill(["failed", "timeout after 0.3 s (--request-timeout)"]));
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("Ctrl-C: requests in flight are recorded as interrupted, the summary is written, exit 130", async () => {
    const dir = tempDir();
    const mock = await startMock(["--ttft-ms", "10", "--itl-ms", "50"]);
    try {
      const child = Bun.spawn(
        llmbenchArgv("run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "100",
          "--num-clients", "3", "--num-requests", "30", "--ramp-up-time", "0", "--result-dir", dir),
        { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
      );
      // interrupt once the first requests are streaming
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && !(await Bun.file(join(dir, "requests.jsonl")).exists())) await Bun.sleep(20);
      await Bun.sleep(500);
      child.kill("SIGINT");
      expect(await child.exited).toBe(130);
      const records = await readJsonl<{ status: string; error: string; events: unknown[] }>(join(dir, "requests.jsonl"));
      expect(records.length).toBe(3);
      for (const r of records) {
        expect(r.error).toBe("interrupted (Ctrl-C)");
        expect(r.events.length).toBeGreaterThan(0);
      }
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.interrupted).toBe(true);
      expect(summary.failures).toEqual({ "interrupted (Ctrl-C)": 3 });
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("a server that dies mid-run: every request sent is a success or a failure with its reason", async () => {
    const dir = tempDir();
    const mock = await startMock(["--ttft-ms", "10", "--itl-ms", "20"]);
    const run = runCli([
      "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "20",
      "--num-clients", "8", "--num-requests", "400", "--ramp-up-time", "0", "--request-timeout", "5", "--result-dir", dir,
    ]);
    // stop the server once requests are finishing (a loaded machine may take a while to get there)
    const deadline = Date.now() + 30_000;
    const completedOne = async () => {
      const file = Bun.file(join(dir, "requests.jsonl"));
      return (await file.exists()) && (await file.text()).includes('"status":"ok"');
    };
    while (Date.now() < deadline && !(await completedOne())) await Bun.sleep(20);
    await mock.stop();
    const result = await run;
    const records = await readJsonl<{ status: string; error: string | null }>(join(dir, "requests.jsonl"));
    const summary = await Bun.file(join(dir, "summary.json")).json();
    expect(result.exitCode).toBe(0);
    expect(summary.completed).toBeGreaterThan(0);
    expect(summary.failed).toBeGreaterThan(0);
    expect(summary.completed + summary.failed).toBe(records.length);
    expect(summary.requests).toBe(records.length);
    for (const r of records.filter((r) => r.status === "failed")) expect(r.error).toMatch(/\S/);
  }, 30_000);
});

describe("bad input is a clear error with exit code 2, before any request", () => {
  const base = ["run", "--model", "m", "--num-requests", "1"];

  test("a missing required flag is named", async () => {
    const result = await runCli(["run", "--dataset-path", DATASET, "--num-requests", "1"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--model is required");
  });

  test("a malformed number is named with what was expected", async () => {
    const result = await runCli([...base, "--dataset-path", DATASET, "--num-clients", "many"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--num-clients: expected a positive integer");
  });

  test("an unknown flag and an unknown backend are refused", async () => {
    const unknownFlag = await runCli([...base, "--dataset-path", DATASET, "--clientz", "3"]);
    expect(unknownFlag.exitCode).toBe(2);
    expect(unknownFlag.stderr).toContain("--clientz");
    const unknownBackend = await runCli([...base, "--dataset-path", DATASET, "--backend", "nope"]);
    expect(unknownBackend.exitCode).toBe(2);
    expect(unknownBackend.stderr).toContain("--backend: expected one of");
  });

  test("a missing, non-JSON or wrongly shaped dataset names the file and the problem", async () => {
    const dir = tempDir();
    const missing = await runCli([...base, "--dataset-path", join(dir, "nope.json")]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("nope.json: file not found");
    await Bun.write(join(dir, "bad.json"), "{not json");
    const bad = await runCli([...base, "--dataset-path", join(dir, "bad.json")]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("bad.json:1: not valid JSON");
    await Bun.write(join(dir, "shape.json"), JSON.stringify([{ id: 1, text: "hello" }]));
    const shape = await runCli([...base, "--dataset-path", join(dir, "shape.json")]);
    expect(shape.exitCode).toBe(2);
    expect(shape.stderr).toContain('entry 1 has none of "conversations" (ShareGPT), "prompt" or "messages"');
  });

  test("an unreachable server is found with one health request, and nothing is written", async () => {
    const dir = tempDir();
    // a port that was free a moment ago: nothing listens there
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const result = await runCli([...base, "--dataset-path", DATASET, "--base-url", `http://127.0.0.1:${port}`, "--result-dir", join(dir, "r")]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--base-url http://127.0.0.1:${port}: the vllm server is not reachable (connection refused)`);
    expect(await Bun.file(join(dir, "r/requests.jsonl")).exists()).toBe(false);
  });
});

describe("the report a run writes", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--ttft-ms", "5", "--itl-ms", "2", "--tokens-per-event", "2", "--faults", "http500:0.2,error-event:0.2", "--fault-seed", "3"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("from the stats in hand is, byte for byte, what `llmbench report` writes from the run's files", async () => {
    const dir = join(tempDir(), "r");
    const run = await runCli(["run", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET, "--output-len", "24", "--num-clients", "4", "--num-requests", "40", "--no-progress", "--result-dir", dir]);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    // both kinds of request in the report: some failed (the faults drawn), most did not
    expect({ completed: summary.completed > 0, failed: summary.failed > 0 }).toEqual({ completed: true, failed: true });
    expect(run.exitCode).toBe(0);
    const again = join(dir, "again.html");
    const report = await runCli(["report", dir, "-o", again]);
    expect(report.exitCode).toBe(0);
    expect(readFileSync(join(dir, "report.html"), "utf8") === readFileSync(again, "utf8")).toBe(true);
  }, 60_000);
});
