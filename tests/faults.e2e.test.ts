import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { DATASET, readJsonl, runCli, startMock, tempDir } from "./helpers/cli.ts";

/**
 * The fault matrix (`llmbench mock --faults`): each fault, struck on every request, is recorded
 * once per request with a reason that names it truly, within the run's timeouts, with its
 * summaries written. The simulator's truth log says which fault hit which request.
 */

interface TruthEntry {
  arrival_ms: number;
  token_ms: number[];
  status: string;
  fault?: string;
}

interface RecordLine {
  user: number;
  seq: number;
  status: string;
  error: string | null;
  reconnected: boolean;
  send_ms: number;
  done_ms: number;
  ttft_ms: number | null;
}

const REQUEST_TIMEOUT_S = 1;
const REQUESTS = 6;
const KEY = "sk-llmbench-fault-test-0123456789";

interface FaultCase {
  fault: string;
  /** What the record's reason must say (null: the request succeeds). */
  reason: RegExp | null;
  /** What it must not say (the misleading reasons of old). */
  not?: RegExp;
  protocol?: string;
}

const CASES: FaultCase[] = [
  { fault: "http500", reason: /^HTTP 500: .*simulated HTTP 500/ },
  { fault: "http429", reason: /^HTTP 429: / },
  { fault: "http503", reason: /^HTTP 503: / },
  { fault: "close", reason: /^the server closed the connection before answering$/, not: /reset/ },
  { fault: "reset", reason: /^connection reset by the server$/ },
  { fault: "stall-headers", reason: /^timeout after 1 s \(--request-timeout\)$/ },
  { fault: "stall-body", reason: /^timeout after 1 s \(--request-timeout\)$/ },
  { fault: "stall-mid", reason: /^timeout after 1 s \(--request-timeout\)$/ },
  { fault: "slow-headers", reason: null },
  { fault: "malformed", reason: /^unparseable stream event: / },
  { fault: "no-done", reason: /^stream ended before the answer was complete$/ },
  { fault: "error-event", reason: /^server error: simulated error event/ },
  { fault: "error-event", reason: /^server error: simulated error event/, protocol: "openai-chat" },
  { fault: "error-event", reason: /^server error: simulated error event/, protocol: "tgi" },
  { fault: "not-stream", reason: /^HTTP 200 answered with application\/json.*, not an event stream: \{/, not: /stream ended before/ },
  // The key in these two is for the scrubber to remove; here only the failure is checked.
  { fault: "echo-auth", reason: /^HTTP 401: / },
  { fault: "echo-auth-stream", reason: /^server error: simulated error \(--faults echo-auth-stream\)/ },
];

async function runWithFault(args: string[], backend: string, runArgs: string[]) {
  const dir = tempDir();
  const truthPath = join(dir, "truth.jsonl");
  // --ignore-eos: every answer runs to its 8 tokens, also for tgi, so a mid-stream fault has a middle to strike.
  const mock = await startMock(["--ttft-ms", "20", "--itl-ms", "5", "--ignore-eos", "--fault-delay-ms", "300", "--truth-log", truthPath, ...args]);
  const started = performance.now();
  let result;
  try {
    result = await runCli(
      [
        "run", "--backend", backend, "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET, "--output-len", "8",
        "--request-timeout", String(REQUEST_TIMEOUT_S), "--result-dir", join(dir, "r"), "--no-progress", ...runArgs,
      ],
      { env: { OPENAI_API_KEY: KEY } },
    );
  } finally {
    await mock.stop();
  }
  const wallMs = performance.now() - started;
  const records = await readJsonl<RecordLine>(join(dir, "r/requests.jsonl"));
  const truth = await readJsonl<TruthEntry>(truthPath);
  return { dir, result, wallMs, records, truth };
}

describe("every fault of the matrix, on every request", () => {
  for (const c of CASES) {
    const protocol = c.protocol ?? "vllm";
    test(`${c.fault} (${protocol}): each request recorded once, ${c.reason ? `failed: ${c.reason.source}` : "ok"}`, async () => {
      const { dir, result, wallMs, records, truth } = await runWithFault(
        ["--protocol", protocol, "--faults", `${c.fault}:1`],
        protocol,
        ["--num-clients", "2", "--num-requests", String(REQUESTS), "--ramp-up-time", "0"],
      );
      // Each request once, whatever happened to it.
      expect(records.length).toBe(REQUESTS);
      expect(new Set(records.map((r) => `${r.user}.${r.seq}`)).size).toBe(REQUESTS);
      for (const record of records) {
        if (c.reason === null) {
          expect(record.status).toBe("ok");
        } else {
          expect(record.status).toBe("failed");
          expect(record.error!).toMatch(c.reason);
          if (c.not) expect(record.error!).not.toMatch(c.not);
        }
      }
      // The summaries were written, and the exit code says whether requests failed.
      const summary = (await Bun.file(join(dir, "r/summary.json")).json()) as Record<string, number>;
      expect(summary.completed + summary.failed).toBe(REQUESTS);
      expect(summary.failed).toBe(c.reason === null ? 0 : REQUESTS);
      expect(result.exitCode).toBe(c.reason === null ? 0 : 1);
      // Within its timeouts: three rounds of two requests, each cut at the request timeout at worst.
      for (const record of records) expect(record.done_ms).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + 2000);
      expect(wallMs).toBeLessThan(30_000);
      // The truth log names the fault for every request the server got (a resent one counts twice).
      const resent = records.filter((r) => r.reconnected).length;
      expect(truth.length).toBe(REQUESTS + resent);
      expect(truth.every((t) => t.fault === c.fault)).toBe(true);
      if (c.fault === "close") expect(resent).toBeLessThanOrEqual(REQUESTS);
      else expect(resent).toBe(0);
      // A stall before the headers is logged when the client hangs up: every stalled connection was closed.
      if (c.fault === "slow-headers") {
        for (const t of truth) expect(t.token_ms[0]! - t.arrival_ms).toBeGreaterThanOrEqual(300);
        for (const record of records) expect(record.ttft_ms!).toBeGreaterThanOrEqual(300 - 5);
      }
    }, 60_000);
  }
});

describe("the fault schedule", () => {
  const mixed = ["--faults", "http500:0.2,reset:0.2,error-event:0.2", "--fault-seed", "7"];
  const workload = ["--num-clients", "1", "--num-requests", "30"];
  const expected: Record<string, RegExp> = {
    http500: /^HTTP 500: /,
    reset: /^connection reset by the server$/,
    "error-event": /^server error: simulated error event/,
  };

  test("each request's outcome is the fault the truth log says it drew; the same seed draws the same faults", async () => {
    const first = await runWithFault(mixed, "vllm", workload);
    const again = await runWithFault(mixed, "vllm", workload);
    expect(again.truth.map((t) => t.fault ?? null)).toEqual(first.truth.map((t) => t.fault ?? null));
    const faults = first.truth.map((t) => t.fault ?? null);
    expect(new Set(faults)).toEqual(new Set([null, "http500", "reset", "error-event"]));
    // One client: requests go one after another, so the nth record is the nth request the server got.
    const bySend = [...first.records].sort((a, b) => a.send_ms - b.send_ms);
    expect(bySend.length).toBe(30);
    expect(first.truth.length).toBe(30);
    for (const [i, record] of bySend.entries()) {
      const fault = faults[i];
      if (fault === null || fault === undefined) expect(record.status).toBe("ok");
      else expect(record.error!).toMatch(expected[fault]!);
    }
  }, 90_000);

  test("a bad --faults list is a usage error naming the flag, before anything listens", async () => {
    for (const [list, says] of [
      ["reset:2", /probability must be a number in 0\.\.1/],
      ["explode:0.1", /unknown fault "explode"/],
      ["http200:0.1", /status must be 400\.\.599/],
      ["reset:0.6,close:0.6", /add up to 1\.2/],
    ] as const) {
      const result = await runCli(["mock", "--port", "0", "--faults", list]);
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain("--faults");
      expect(result.stderr).toMatch(says);
      expect(result.stdout).not.toContain("listening");
    }
    const grpc = await runCli(["mock", "--port", "0", "--protocol", "ppl", "--faults", "not-stream:0.5"]);
    expect(grpc.exitCode).toBe(2);
    expect(grpc.stderr).toContain("cannot strike gRPC");
  }, 60_000);
});

describe("faults over gRPC (ppl)", () => {
  const cases: Array<[fault: string, reason: RegExp | null]> = [
    ["error-event", /^server error: status FAILED \(simulated error event/],
    ["reset", /^gRPC INTERNAL: Received RST_STREAM/],
    ["stall-headers", /^timeout after 1 s \(--request-timeout\)$/],
    ["stall-mid", /^timeout after 1 s \(--request-timeout\)$/],
    ["close", /^gRPC UNAVAILABLE: Connection dropped$/],
    ["slow-headers", null],
  ];
  for (const [fault, reason] of cases) {
    test(`${fault}: each request recorded once, ${reason ? `failed: ${reason.source}` : "ok"}`, async () => {
      // The first call is the health check's one-token request: it draws no fault.
      const { records, truth, result } = await runWithFault(
        ["--protocol", "ppl", "--faults", `${fault}:1`, "--fault-skip", "1"],
        "ppl",
        // One client: calls share one channel, and a dropped connection would fail every call on it.
        ["--num-clients", "1", "--num-requests", String(REQUESTS)],
      );
      expect(records.length).toBe(REQUESTS);
      for (const record of records) {
        if (reason === null) expect(record.status).toBe("ok");
        else expect(record.error!).toMatch(reason);
        expect(record.done_ms).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + 2000);
      }
      expect(result.exitCode).toBe(reason === null ? 0 : 1);
      const struck = truth.filter((t) => t.fault === fault).length;
      // A call dropped before any answer goes once more (and is dropped again): twice per request, never more.
      expect(struck).toBe(fault === "close" ? 2 * REQUESTS : REQUESTS);
      if (fault === "close") expect(records.every((r) => r.reconnected)).toBe(true);
    }, 60_000);
  }
});
