import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DATASET, llmbenchArgv, readJsonl, runCli, startMock, tempDir } from "./helpers/cli.ts";

/**
 * Connections as real servers treat them: the simulator closes kept-alive connections the ways
 * real servers do, and llmbench resends a request (once, on a fresh connection) only when its
 * connection was closed before any response byte. The truth log proves nothing was sent twice.
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
  ttft_ms: number | null;
  out_tokens: number;
}

const OUTPUT_LEN = 8;

async function runAgainst(url: string, backend: string, dir: string, extra: string[]) {
  const result = await runCli([
    "run", "--backend", backend, "--base-url", url, "--model", "mock-model", "--dataset-path", DATASET,
    "--output-len", String(OUTPUT_LEN), "--result-dir", dir, "--no-progress", ...extra,
  ]);
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  const records = await readJsonl<RecordLine>(join(dir, "requests.jsonl"));
  const summary = (await Bun.file(join(dir, "summary.json")).json()) as Record<string, number>;
  return { exitCode: result.exitCode, records, summary };
}

describe("a server that closes after every answer although it says keep-alive (llama-server)", () => {
  for (const backend of ["vllm", "openai-chat", "llamacpp"]) {
    test(`${backend}: 64 requests at 1, 4 and 8 clients all complete, none is sent twice`, async () => {
      const protocol = backend === "vllm" ? "vllm" : backend;
      const dir = tempDir();
      const truthPath = join(dir, "truth.jsonl");
      const mock = await startMock(["--protocol", protocol, "--ttft-ms", "5", "--itl-ms", "1", "--close-after-answer", "--truth-log", truthPath]);
      let reconnected = 0;
      try {
        for (const clients of [1, 4, 8]) {
          const run = await runAgainst(mock.url, backend, join(dir, `c${clients}`), ["--num-clients", String(clients), "--num-requests", "64", "--ramp-up-time", "0"]);
          expect(run.summary.completed).toBe(64);
          expect(run.summary.failed).toBe(0);
          expect(run.records.length).toBe(64);
          expect(run.records.every((r) => r.status === "ok" && r.out_tokens === OUTPUT_LEN)).toBe(true);
          reconnected += run.records.filter((r) => r.reconnected).length;
        }
      } finally {
        await mock.stop();
      }
      // Exactly one generation per request reached the server (health checks are GETs, not logged).
      const truth = await readJsonl<TruthEntry>(truthPath);
      expect(truth.length).toBe(3 * 64);
      expect(truth.every((t) => t.status === "ok")).toBe(true);
      // The race is real: with every connection closed after its answer, some requests found theirs closed.
      expect(reconnected).toBeGreaterThan(0);
    }, 120_000);
  }

  test("a resent request is timed from the send that counts: its TTFT matches the server's", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    const mock = await startMock(["--ttft-ms", "40", "--itl-ms", "2", "--close-after-answer", "--truth-log", truthPath]);
    let run;
    try {
      run = await runAgainst(mock.url, "vllm", join(dir, "r"), ["--num-clients", "1", "--num-requests", "24"]);
    } finally {
      await mock.stop();
    }
    expect(run.summary.failed).toBe(0);
    const truth = await readJsonl<TruthEntry>(truthPath);
    expect(truth.length).toBe(24);
    // One client: requests are sequential, so record i is truth entry i.
    const bySend = [...run.records].sort((a, b) => a.send_ms - b.send_ms);
    expect(bySend.some((r) => r.reconnected)).toBe(true);
    for (const [i, record] of bySend.entries()) {
      // The send that counts goes out before the server sees the request, and not long before.
      expect(truth[i]!.arrival_ms - record.send_ms).toBeGreaterThanOrEqual(-1);
      expect(truth[i]!.arrival_ms - record.send_ms).toBeLessThan(40);
      const trueTtft = truth[i]!.token_ms[0]! - truth[i]!.arrival_ms;
      expect(record.ttft_ms! - trueTtft).toBeGreaterThanOrEqual(-1);
    }
  }, 60_000);
});

/** One raw HTTP/1.1 exchange after another on one TCP connection, as the bytes go. */
async function rawExchanges(port: number, requests: string[], waitForCloseMs = 3000) {
  const socket = connect(port, "127.0.0.1");
  socket.setEncoding("latin1");
  let buffer = "";
  let closedAt: number | null = null;
  let wake: (() => void) | null = null;
  socket.on("data", (text: string) => {
    buffer += text;
    wake?.();
  });
  socket.on("close", () => {
    closedAt = Date.now();
    wake?.();
  });
  socket.on("error", () => {});
  const until = async (done: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!done() && Date.now() < deadline) await new Promise<void>((resolve) => ((wake = resolve), setTimeout(resolve, 50)));
  };
  const answers: Array<{ head: string; body: string; headAt: number; endAt: number }> = [];
  for (const request of requests) {
    if (closedAt !== null) break;
    buffer = "";
    socket.write(request);
    await until(() => buffer.includes("\r\n\r\n") || closedAt !== null, 5000);
    const headAt = Date.now();
    const headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd === -1) break;
    const head = buffer.slice(0, headEnd);
    const length = /content-length: (\d+)/i.exec(head);
    const complete = () => {
      const body = buffer.slice(headEnd + 4);
      return length ? body.length >= Number(length[1]) : body.endsWith("0\r\n\r\n");
    };
    await until(() => complete() || closedAt !== null, 5000);
    answers.push({ head, body: buffer.slice(headEnd + 4), headAt, endAt: Date.now() });
  }
  await until(() => closedAt !== null, waitForCloseMs);
  socket.destroy();
  return { answers, closedAt: closedAt as number | null };
}

const streamRequest = (path: string, body: unknown, connection = "keep-alive") => {
  const text = JSON.stringify(body);
  return `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nConnection: ${connection}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`;
};
const completion = streamRequest("/v1/completions", { prompt: "Hello", max_tokens: 3, stream: true, ignore_eos: true });

describe("the simulator's connection behaviours, on the wire", () => {
  test("--close-after-answer: says keep-alive (timeout=5, max=100), then closes after the answer", async () => {
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--close-after-answer"]);
    try {
      const port = Number(new URL(mock.url).port);
      const { answers, closedAt } = await rawExchanges(port, [completion, completion]);
      expect(answers.length).toBe(1);
      expect(answers[0]!.head).toMatch(/\r\nConnection: keep-alive\r\n/i);
      expect(answers[0]!.head).toMatch(/\r\nKeep-Alive: timeout=5, max=100\r\n/i);
      expect(answers[0]!.body).toContain("data: [DONE]");
      expect(closedAt).not.toBeNull();
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("--connection-close: every answer says Connection: close and the connection closes", async () => {
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--connection-close"]);
    try {
      const { answers, closedAt } = await rawExchanges(Number(new URL(mock.url).port), [completion, completion]);
      expect(answers.length).toBe(1);
      expect(answers[0]!.head).toMatch(/\r\nConnection: close\r\n/i);
      expect(answers[0]!.body).toContain("data: [DONE]");
      expect(closedAt).not.toBeNull();
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("--keep-alive-max 3: three answers on one connection, counting down, the last says close", async () => {
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--keep-alive-max", "3"]);
    try {
      const { answers, closedAt } = await rawExchanges(Number(new URL(mock.url).port), [completion, completion, completion, completion]);
      expect(answers.length).toBe(3);
      expect(answers[0]!.head).toMatch(/\r\nKeep-Alive: max=2\r\n/i);
      expect(answers[1]!.head).toMatch(/\r\nKeep-Alive: max=1\r\n/i);
      expect(answers[2]!.head).toMatch(/\r\nConnection: close\r\n/i);
      expect(answers.every((answer) => answer.body.includes("data: [DONE]"))).toBe(true);
      expect(closedAt).not.toBeNull();
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("--idle-timeout 0.4: an idle connection is closed, not before 0.4 s", async () => {
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--idle-timeout", "0.4"]);
    try {
      const { answers, closedAt } = await rawExchanges(Number(new URL(mock.url).port), [completion], 5000);
      expect(answers.length).toBe(1);
      expect(answers[0]!.head).toMatch(/\r\nConnection: keep-alive\r\n/i);
      expect(closedAt).not.toBeNull();
      expect(closedAt! - answers[0]!.endAt).toBeGreaterThanOrEqual(400 - 60);
    } finally {
      await mock.stop();
    }
  }, 30_000);

  test("a request saying Connection: close is answered, then its connection closes", async () => {
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1"]);
    try {
      const request = streamRequest("/v1/completions", { prompt: "Hello", max_tokens: 3, stream: true }, "close");
      const { answers, closedAt } = await rawExchanges(Number(new URL(mock.url).port), [request]);
      expect(answers[0]!.head).toMatch(/\r\nConnection: close\r\n/i);
      expect(closedAt).not.toBeNull();
    } finally {
      await mock.stop();
    }
  }, 30_000);

  for (const flags of [["--connection-close"], ["--keep-alive-max", "3"], ["--idle-timeout", "0.25"]]) {
    test(`llmbench against ${flags.join(" ")}: every request completes`, async () => {
      const dir = tempDir();
      const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", ...flags]);
      try {
        // A rate of 8/s leaves gaps around the idle timeout: some connections are closed as they are reused.
        const workload = flags[0] === "--idle-timeout" ? ["--request-rate", "8", "--num-requests", "24"] : ["--num-clients", "4", "--num-requests", "32"];
        const run = await runAgainst(mock.url, "vllm", dir, workload);
        expect(run.summary.failed).toBe(0);
        expect(run.records.length).toBe(run.summary.completed);
        expect(run.records.every((r) => r.status === "ok")).toBe(true);
      } finally {
        await mock.stop();
      }
    }, 60_000);
  }
});

describe("the simulator's streams carry only what real servers send", () => {
  const cases: Array<[protocol: string, path: string, body: unknown]> = [
    ["vllm", "/v1/completions", { prompt: "Hello", max_tokens: 3, stream: true, ignore_eos: true }],
    ["openai-chat", "/v1/chat/completions", { messages: [{ role: "user", content: "Hello" }], max_tokens: 3, stream: true, ignore_eos: true }],
    ["lightllm", "/generate_stream", { inputs: "Hello", parameters: { max_new_tokens: 3, ignore_eos: true } }],
    ["sglang", "/generate", { text: "Hello", sampling_params: { max_new_tokens: 3, ignore_eos: true }, stream: true }],
    ["tgi", "/generate_stream", { inputs: "Hello", parameters: { max_new_tokens: 3 } }],
    ["llamacpp", "/completion", { prompt: "Hello", n_predict: 3, stream: true, ignore_eos: true }],
  ];
  test("no comment line: every stream starts with its first data: event; headers go out before the first token", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    const protocols = cases.map(([protocol]) => protocol);
    const mock = await startMock(["--protocol", protocols.join(","), "--ttft-ms", "400", "--itl-ms", "1", "--truth-log", truthPath]);
    const headAt: number[] = [];
    try {
      for (const [protocol, path, body] of cases) {
        const { answers } = await rawExchanges(Number(new URL(mock.urls[protocol]!).port), [streamRequest(path, body)], 0);
        expect(answers.length).toBe(1);
        expect(answers[0]!.head).toMatch(/^HTTP\/1\.1 200 /);
        // The chunked body's first chunk: its size line, then the event.
        const firstChunk = answers[0]!.body.slice(answers[0]!.body.indexOf("\r\n") + 2);
        expect(firstChunk.startsWith("data:")).toBe(true);
        const lines = answers[0]!.body.split(/\r?\n/);
        expect(lines.filter((line) => line.startsWith(":"))).toEqual([]);
        headAt.push(answers[0]!.headAt);
      }
    } finally {
      await mock.stop();
    }
    const truth = await readJsonl<TruthEntry>(truthPath);
    expect(truth.length).toBe(cases.length);
    // The status line and headers arrived before the simulator wrote the first token (400 ms after arrival).
    for (const [i, entry] of truth.entries()) expect(headAt[i]!).toBeLessThan(entry.token_ms[0]!);
  }, 60_000);

  test.skipIf(Bun.which("curl") === null)("curl -N reads a stream event by event", async () => {
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1"]);
    try {
      const curl = Bun.spawn(
        ["curl", "-sS", "-N", "--max-time", "10", `${mock.url}/v1/completions`, "-H", "content-type: application/json",
          "-d", JSON.stringify({ prompt: "Hello", max_tokens: 4, stream: true, ignore_eos: true })],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [out, code] = await Promise.all([new Response(curl.stdout).text(), curl.exited]);
      expect(code).toBe(0);
      const events = out.split("\n\n").filter((event) => event.trim() !== "");
      expect(events.length).toBe(5);
      expect(events.every((event) => event.startsWith("data: "))).toBe(true);
      expect(events.at(-1)).toBe("data: [DONE]");
      // A client that asks `Expect: 100-continue` before its body (curl does for large ones) is told to go on at once.
      const big = Bun.spawn(
        ["curl", "-sS", "-v", "-N", "--max-time", "10", `${mock.url}/v1/completions`, "-H", "content-type: application/json", "-H", "Expect: 100-continue",
          "-d", JSON.stringify({ prompt: "word ".repeat(600), max_tokens: 2, stream: true, ignore_eos: true })],
        { stdout: "pipe", stderr: "pipe" },
      );
      const [bigOut, verbose, bigCode] = await Promise.all([new Response(big.stdout).text(), new Response(big.stderr).text(), big.exited]);
      expect(bigCode).toBe(0);
      expect(verbose).toContain("< HTTP/1.1 100 Continue");
      expect(bigOut.trim().endsWith("data: [DONE]")).toBe(true);
    } finally {
      await mock.stop();
    }
  }, 30_000);
});

describe("gRPC (ppl): a channel that went away is re-established", () => {
  test("calls whose connection is dropped before any answer go once more, at most once", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    // The first call is the health check's one-token request.
    const mock = await startMock(["--protocol", "ppl", "--ttft-ms", "5", "--itl-ms", "1", "--faults", "close:0.3", "--fault-seed", "3", "--fault-skip", "1", "--truth-log", truthPath]);
    let run;
    try {
      // One client: a dropped connection carries one call (several calls share a channel, and a dropped one fails them all).
      run = await runAgainst(mock.url, "ppl", join(dir, "r"), ["--num-clients", "1", "--num-requests", "40"]);
    } finally {
      await mock.stop();
    }
    expect(run.records.length).toBe(40);
    const truth = await readJsonl<TruthEntry>(truthPath);
    const dropped = truth.filter((t) => t.fault === "close").length;
    const failed = run.records.filter((r) => r.status === "failed");
    const reconnected = run.records.filter((r) => r.reconnected);
    expect(reconnected.length).toBeGreaterThan(0);
    // Every dropped call was a first try that went again, or a second try that failed: none went a third time.
    expect(dropped).toBe(reconnected.length + failed.length);
    for (const record of failed) {
      expect(record.reconnected).toBe(true);
      expect(record.error).toBe("gRPC UNAVAILABLE: Connection dropped");
    }
    expect(truth.filter((t) => t.status === "ok").length).toBe(1 + run.records.filter((r) => r.status === "ok").length);
  }, 60_000);

  test("the server restarts during a run: the calls meanwhile fail with the true reason, later ones succeed", async () => {
    const dir = tempDir();
    const truthPath = join(dir, "truth.jsonl");
    const first = await startMock(["--protocol", "ppl", "--ttft-ms", "5", "--itl-ms", "2", "--truth-log", truthPath]);
    const port = new URL(`http://${first.url}`).port;
    const runDone = runAgainst(first.url, "ppl", join(dir, "r"), ["--request-rate", "10", "--num-requests", "80", "--seed", "1"]);
    // stop the server once it has answered a few (a fixed sleep could stop it before a slow start's health check)
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !(existsSync(truthPath) && readFileSync(truthPath, "utf8").split("\n").length > 5)) await Bun.sleep(50);
    await first.stop();
    const second = Bun.spawn(llmbenchArgv("mock", "--protocol", "ppl", "--host", "127.0.0.1", "--port", port, "--ttft-ms", "5", "--itl-ms", "2"), {
      stdout: "ignore",
      stderr: "inherit",
    });
    try {
      const run = await runDone;
      expect(run.records.length).toBe(80);
      const bySend = [...run.records].sort((a, b) => a.send_ms - b.send_ms);
      for (const record of bySend.filter((r) => r.status === "failed")) expect(record.error).toMatch(/^gRPC (UNAVAILABLE|CANCELLED|INTERNAL)/);
      // The channel came back: the last requests were answered by the new server.
      expect(bySend.slice(-5).every((r) => r.status === "ok")).toBe(true);
    } finally {
      second.kill("SIGTERM");
      await second.exited;
    }
  }, 60_000);
});
