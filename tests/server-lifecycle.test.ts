import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Backend } from "../src/backends/backend.ts";
import { createBackend } from "../src/backends/registry.ts";
import type { ResolvedLaunch } from "../src/config/bench-config.ts";
import { formatLogTail, tailLines } from "../src/server/log-tail.ts";
import { isRecordedServerRunning, processStartTicks, type ServerRecord } from "../src/server/pid-file.ts";
import { isGroupAlive, isProcessAlive, stopProcessGroup } from "../src/server/process-group.ts";
import { formatArgv, looksSecret, redactArgv, redactEnv } from "../src/server/redact.ts";
import { launchAndWait, ServerStartError } from "../src/server/server-session.ts";
import { llmbenchArgv, tempDir } from "./helpers/cli.ts";

async function waitForFile(path: string, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const text = readFileSync(path, "utf8").trim();
      if (text) return text;
    } catch {}
    await Bun.sleep(20);
  }
  throw new Error(`${path} never appeared`);
}

function launch(command: string[], cwd: string, extra: Partial<ResolvedLaunch> = {}): ResolvedLaunch {
  return { command, env: {}, cwd, readyTimeoutS: 10, stopGraceS: 2, ...extra };
}

const unreachable: Backend = createBackend("vllm", { baseUrl: "http://127.0.0.1:9", model: "m", apiKey: null, insecure: false });

describe("stopping a process group", () => {
  test("SIGTERM reaches the processes the server started, not only the server", async () => {
    const dir = tempDir();
    const child = Bun.spawn(["sh", "-c", `sleep 300 & echo $! > ${dir}/grandchild; wait`], { detached: true });
    const grandchild = Number(await waitForFile(join(dir, "grandchild")));
    expect(isProcessAlive(grandchild)).toBe(true);
    expect(await stopProcessGroup(child.pid, 2)).toBe("terminated");
    expect(isProcessAlive(grandchild)).toBe(false);
    expect(isGroupAlive(child.pid)).toBe(false);
  });

  test("a group that ignores SIGTERM is killed once the grace period is over", async () => {
    const dir = tempDir();
    const child = Bun.spawn(["sh", "-c", `trap '' TERM; sleep 300 & echo $! > ${dir}/grandchild; wait; wait`], { detached: true });
    const grandchild = Number(await waitForFile(join(dir, "grandchild")));
    const started = performance.now();
    expect(await stopProcessGroup(child.pid, 0.3)).toBe("killed");
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(isProcessAlive(grandchild)).toBe(false);
    expect(isGroupAlive(child.pid)).toBe(false);
  });

  test("a group that is already gone", async () => {
    const child = Bun.spawn(["true"], { detached: true });
    await child.exited;
    expect(await stopProcessGroup(child.pid, 1)).toBe("not running");
  });
});

describe("launching and waiting for readiness", () => {
  test("a server that exits at once: the error says how it exited and ends with its log", async () => {
    const dir = tempDir();
    const logPath = join(dir, "server.log");
    const error = await launchAndWait({
      launch: launch(["sh", "-c", "echo loading weights; echo 'CUDA error: out of memory' >&2; exit 3"], dir),
      url: "http://127.0.0.1:9",
      backend: unreachable,
      logPath,
      commandField: "servers.vllm.launch.command",
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect(error.message).toStartWith("the server exited with code 3 before it was ready\n");
    expect(error.message).toContain("  | loading weights\n  | CUDA error: out of memory");
  });

  test("a server that never answers: a timeout error naming the setting, and the process is stopped", async () => {
    const dir = tempDir();
    let pid = 0;
    const started = performance.now();
    const error = await launchAndWait({
      launch: launch(["sleep", "300"], dir, { readyTimeoutS: 0.8 }),
      url: "http://127.0.0.1:9",
      backend: unreachable,
      logPath: join(dir, "server.log"),
      commandField: "servers.vllm.launch.command",
      onLaunched: (p) => (pid = p),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ServerStartError);
    expect(error.message).toContain("the server was not ready after 0.8 s (servers.vllm.launch.readyTimeoutS gives it longer); last health check: connection refused");
    expect(performance.now() - started).toBeGreaterThanOrEqual(800);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(isGroupAlive(pid)).toBe(false);
  });

  test("a program that does not exist is named with its config field", async () => {
    const dir = tempDir();
    const attempt = launchAndWait({
      launch: launch(["no-such-server-program-xyz", "--port", "1"], dir),
      url: "http://127.0.0.1:9",
      backend: unreachable,
      logPath: join(dir, "server.log"),
      commandField: "servers.vllm.launch.command",
    });
    await expect(attempt).rejects.toThrow('servers.vllm.launch.command[0]: cannot start "no-such-server-program-xyz": no such program');
  });

  test("the simulator launched from its argv becomes ready; its output goes to the log; stop() leaves nothing", async () => {
    const dir = tempDir();
    const logPath = join(dir, "server.log");
    const port = (await import("../src/server/free-port.ts")).freePort();
    const url = `http://127.0.0.1:${port}`;
    const { session, waitedS } = await launchAndWait({
      launch: launch(llmbenchArgv("mock", "--port", String(port), "--ttft-ms", "1", "--itl-ms", "1"), dir),
      url,
      backend: createBackend("vllm", { baseUrl: url, model: "m", apiKey: null, insecure: false }),
      logPath,
      commandField: "servers.vllm.launch.command",
    });
    expect(waitedS).toBeLessThan(10);
    expect(readFileSync(logPath, "utf8")).toContain(`llmbench mock listening on ${url}`);
    let lost = false;
    void session.lost.then(() => (lost = true));
    expect(await session.stop()).toBe(`server (pid ${session.pid}) stopped`);
    expect(isGroupAlive(session.pid!)).toBe(false);
    await Bun.sleep(50);
    expect(lost).toBe(false); // a stop we asked for is not a loss
  });
});

describe("log tails, pid records and secrets", () => {
  test("the tail is the last lines", () => {
    const dir = tempDir();
    const path = join(dir, "log");
    writeFileSync(path, Array.from({ length: 50 }, (_, i) => `line ${i}`).join("\n") + "\n\n");
    expect(tailLines(path, 3)).toEqual(["line 47", "line 48", "line 49"]);
    expect(formatLogTail(join(dir, "none"))).toBe(`the server log ${join(dir, "none")} is empty`);
  });

  test("a recorded pid that now belongs to another process is not taken for the server", async () => {
    const child = Bun.spawn(["sleep", "30"], { detached: true });
    const record: ServerRecord = {
      pid: child.pid, startTicks: processStartTicks(child.pid), url: "http://127.0.0.1:1", backend: "vllm", model: "m",
      command: ["sleep", "30"], log: "/dev/null", config: "c", startedAt: new Date().toISOString(),
    };
    expect(record.startTicks).toMatch(/^\d+$/);
    expect(isRecordedServerRunning(record)).toBe(true);
    expect(isRecordedServerRunning({ ...record, startTicks: "1" })).toBe(false);
    await stopProcessGroup(child.pid, 1);
    expect(isRecordedServerRunning(record)).toBe(false);
  });

  test("secret-looking options and variables are redacted, paths and sizes are not", () => {
    expect(redactArgv(["serve", "--api-key", "sk-1", "--hf-token=hf_2", "--tokenizer-path", "/t", "--max-tokens-per-step", "8192"])).toEqual([
      "serve", "--api-key", "<redacted>", "--hf-token=<redacted>", "--tokenizer-path", "/t", "--max-tokens-per-step", "8192",
    ]);
    expect(redactEnv({ HF_TOKEN: "x", OPENAI_API_KEY: "y", AWS_SECRET_ACCESS_KEY: "z", CUDA_VISIBLE_DEVICES: "0" })).toEqual({
      HF_TOKEN: "<redacted>", OPENAI_API_KEY: "<redacted>", AWS_SECRET_ACCESS_KEY: "<redacted>", CUDA_VISIBLE_DEVICES: "0",
    });
    expect(looksSecret("--max_total_token_num")).toBe(false);
    expect(formatArgv(["sh", "-c", "echo 'hi' there"])).toBe(`sh -c 'echo '\\''hi'\\'' there'`);
  });
});
