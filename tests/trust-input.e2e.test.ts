/**
 * Every bad input is a clear error (exit 2, naming the flag, field, file or file:line) before any
 * request and before any server starts; signals, missing programs and flaky health checks are
 * reported as what they are. Real processes and sockets on 127.0.0.1.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { DATASET, llmbenchArgv, runCli, startMock, tempDir, type CliResult, type MockHandle } from "./helpers/cli.ts";
import { SIMULATOR, writeTrustConfig } from "./helpers/trust-config.ts";

/** A vllm-speaking stand-in that only counts what reaches it: a bad input must send nothing. */
function countingServer() {
  let requests = 0;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch() {
      requests++;
      return new Response("ok");
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, requests: () => requests, stop: () => server.stop(true) };
}

function runArgs(url: string, extra: string[], options: { dataset?: string; numRequests?: number; outputLen?: number } = {}): string[] {
  return [
    "run", "--backend", "vllm", "--base-url", url, "--model", "m", "--dataset-path", options.dataset ?? DATASET,
    "--num-requests", String(options.numRequests ?? 2), "--output-len", String(options.outputLen ?? 4), "--no-progress", ...extra,
  ];
}

function expectUsageError(result: CliResult, message: string): void {
  expect(result.stderr).toContain(message);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).not.toContain("    at "); // a message, not a stack trace
}

function runFolderOf(root: string): string | null {
  const date = existsSync(root) ? readdirSync(root).find((name) => /^\d{4}-\d{2}-\d{2}$/.test(name)) : undefined;
  const run = date ? readdirSync(join(root, date))[0] : undefined;
  return date && run ? join(root, date, run) : null;
}

describe("bad input before any request", () => {
  test("an unwritable --result-dir / output.dir: exit 2 naming it, nothing sent, no server launched", async () => {
    const server = countingServer();
    try {
      const dir = tempDir();
      const file = join(dir, "a-file");
      writeFileSync(file, "not a folder\n");
      const result = await runCli(runArgs(server.url, ["--result-dir", join(file, "results")]));
      expectUsageError(result, `--result-dir ${join(file, "results")}: cannot be created, ${file} is a file, not a folder`);
      expect(server.requests()).toBe(0);

      const marker = join(dir, "launched");
      const config = writeTrustConfig(dir, { command: `["sh", "-c", "touch ${marker}; exec \\"$@\\"", "sh", ...${SIMULATOR}]`, numRequests: 2, outputDir: join(file, "result") });
      const sweep = await runCli(["sweep", config, "--no-progress"]);
      expectUsageError(sweep, `output.dir (--output-dir) ${join(file, "result")}: cannot be created`);
      expect(existsSync(marker)).toBe(false);
    } finally {
      server.stop();
    }
  }, 60_000);

  test("a JSONL dataset with a malformed line: exit 2 naming file:line, nothing sent", async () => {
    const server = countingServer();
    try {
      const dataset = join(tempDir(), "prompts.jsonl");
      writeFileSync(dataset, ['{"prompt": "one"}', "", '{"prompt": "two"}', '{"prompt": "three",}', '{"prompt": "four"}'].join("\n") + "\n");
      const result = await runCli(runArgs(server.url, [], { dataset }));
      expectUsageError(result, `dataset ${dataset}:4: not valid JSON`);
      expect(server.requests()).toBe(0);
    } finally {
      server.stop();
    }
  }, 60_000);

  test("a negative value after a space is an invalid value of that flag, not an unknown option", async () => {
    const result = await runCli(runArgs("http://127.0.0.1:9", ["--num-clients", "-1"]));
    expectUsageError(result, "--num-clients: expected a positive integer, got -1");
    const sweep = await runCli(["sweep", "bench.config.ts", "--clients", "-4", "--no-progress"]);
    expectUsageError(sweep, "--clients: expected a positive integer, got -4");
  }, 60_000);

  test("a launch program that does not exist: exit 2 naming the field, before anything is launched or archived", async () => {
    const dir = tempDir();
    const config = writeTrustConfig(dir, { command: `["llmbench-no-such-server-program", "--port", String(server.port)]`, numRequests: 2 });
    const result = await runCli(["sweep", config, "--no-progress"]);
    expectUsageError(result, `servers.vllm.launch.command[0]: cannot start "llmbench-no-such-server-program": no such program`);
    // Whatever was archived agrees with the exit code: here nothing was.
    const run = runFolderOf(join(dir, "result"));
    if (run) expect(JSON.parse(readFileSync(join(run, "run.json"), "utf8")).exit_code).toBe(2);
    expect(run).toBeNull();
  }, 60_000);
});

describe("against the simulator", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--protocol", "vllm,ppl-v1,ppl", "--ttft-ms", "5", "--itl-ms", "5"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("valid entries that cannot be used are counted by reason, in summary.json and the console", async () => {
    const dir = tempDir();
    const dataset = join(dir, "mixed.jsonl");
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ prompt: Array(i % 4 === 0 ? 60 : 3).fill("word").join(" "), output_len: 4 }));
    writeFileSync(dataset, lines.join("\n") + "\n");
    const result = await runCli(runArgs(mock.urls.vllm!, ["--result-dir", dir, "--min-input-len", "20"], { dataset, numRequests: 6 }));
    expect(result.exitCode).toBe(0);
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
    expect(summary.completed).toBe(6);
    const skipped = summary.dataset.skipped["shorter than --min-input-len"];
    expect(skipped).toBeGreaterThan(0);
    expect(Object.keys(summary.dataset.skipped)).toEqual(["shorter than --min-input-len"]);
    expect(result.stdout).toContain(`dataset    ${skipped} ${skipped === 1 ? "entry" : "entries"} skipped: ${skipped} shorter than --min-input-len`);
  }, 60_000);

  test("a --ppl-proto mismatch is named as one, both ways", async () => {
    const v2AtV1 = await runCli(["run", "--backend", "ppl", "--base-url", mock.urls["ppl-v1"]!, "--model", "m", "--dataset-path", DATASET, "--num-requests", "2", "--result-dir", join(tempDir(), "r")]);
    expectUsageError(v2AtV1, `--ppl-proto v2: the ppl server at ${mock.urls["ppl-v1"]} speaks the other message set, v1`);
    expect(v2AtV1.stderr).toContain("give --ppl-proto v1");
    const v1AtV2 = await runCli(["run", "--backend", "ppl", "--ppl-proto", "v1", "--base-url", mock.urls.ppl!, "--model", "m", "--dataset-path", DATASET, "--num-requests", "2", "--result-dir", join(tempDir(), "r")]);
    expectUsageError(v1AtV2, "give --ppl-proto v2");
  }, 60_000);

  test("SIGTERM to run exits 143 'interrupted (SIGTERM)'; Ctrl-C stays 130 'interrupted (Ctrl-C)'", async () => {
    for (const [signal, code, reason] of [["SIGTERM", 143, "interrupted (SIGTERM)"], ["SIGINT", 130, "interrupted (Ctrl-C)"]] as const) {
      const dir = tempDir();
      const child = Bun.spawn(llmbenchArgv(...runArgs(mock.urls.vllm!, ["--result-dir", dir, "--num-clients", "2"], { numRequests: 1000, outputLen: 2000 })), {
        env: { ...process.env, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
      const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline && child.exitCode === null && !existsSync(join(dir, "requests.jsonl"))) await Bun.sleep(20);
      await Bun.sleep(300); // requests are in flight (each takes ~10 s)
      child.kill(signal);
      const exitCode = await child.exited;
      const [stdout] = await output;
      expect(exitCode).toBe(code);
      const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8"));
      expect(summary.interrupted).toBe(true);
      expect(Object.keys(summary.failures)).toEqual([reason]);
      expect(stdout).toContain(`: ${reason}`);
    }
  }, 90_000);

  test("SIGTERM to sweep: 143, and run.json says so", async () => {
    const dir = tempDir();
    const config = writeTrustConfig(dir, { command: SIMULATOR, clients: [1, 2], stopTimeS: 60 });
    const child = Bun.spawn(llmbenchArgv("sweep", config, "--no-progress"), { env: { ...process.env, NO_COLOR: "1" }, stdout: "ignore", stderr: "ignore" });
    const deadline = Date.now() + 45_000;
    let run: string | null = null;
    while (Date.now() < deadline && child.exitCode === null && !(run && existsSync(join(run, "01_clients-1", "requests.jsonl")))) {
      run = runFolderOf(join(dir, "result"));
      await Bun.sleep(20);
    }
    child.kill("SIGTERM");
    expect(await child.exited).toBe(143);
    const info = JSON.parse(readFileSync(join(run!, "run.json"), "utf8"));
    expect(info).toMatchObject({ status: "interrupted", exit_code: 143, reason: "interrupted (SIGTERM)" });
  }, 90_000);
});

describe("the health check between sweep points", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--protocol", "vllm", "--ttft-ms", "5", "--itl-ms", "1"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  /** The launched server: a proxy to the simulator that fails the health checks numbered in `fail`. */
  function proxyCommand(fail: string): string {
    const script = resolve(import.meta.dir, "helpers/flaky-health-proxy.ts");
    return `[${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}, String(server.port), ${JSON.stringify(mock.url)}, ${JSON.stringify(fail)}]`;
  }

  test("one failed answer does not end the sweep", async () => {
    const dir = tempDir();
    // Check 1 is the readiness check, 2 comes before point 1, 3 before point 2: it fails once, then answers.
    const config = writeTrustConfig(dir, { command: proxyCommand("3"), clients: [1, 2], numRequests: 4 });
    const result = await runCli(["sweep", config, "--no-progress"]);
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    const run = runFolderOf(join(dir, "result"))!;
    const log = readFileSync(join(run, "server.log"), "utf8");
    expect(log).toContain("health check 3: failing it\nhealth check 4\n"); // asked again, and it answered
    const info = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
    expect(info).toMatchObject({ status: "completed", points: { planned: 2, done: 2, not_run: 0 } });
  }, 60_000);

  test("a server that stops answering for the whole window ends the sweep, saying how often it was asked", async () => {
    const dir = tempDir();
    const failAll = Array.from({ length: 60 }, (_, i) => i + 3).join(",");
    const config = writeTrustConfig(dir, { command: proxyCommand(failAll), clients: [1, 2], numRequests: 4 });
    const result = await runCli(["sweep", config, "--no-progress"]);
    expect(result.exitCode).toBe(1);
    const run = runFolderOf(join(dir, "result"))!;
    const info = JSON.parse(readFileSync(join(run, "run.json"), "utf8"));
    expect(info.points).toMatchObject({ done: 1, not_run: 1 });
    expect(info.reason).toMatch(/^the server stopped answering its health check \((\d+) attempts over 10 s; last: /);
    expect(Number(/\((\d+) attempts/.exec(info.reason)![1])).toBeGreaterThan(2);
  }, 90_000);
});
