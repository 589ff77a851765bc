import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isGroupAlive } from "../src/server/process-group.ts";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";

describe("llmbench server start | status | stop with the simulator config", () => {
  test("start prints SERVER STARTED <pid> and leaves it running; sweep uses it; stop stops the whole group", async () => {
    const dir = tempDir();
    const server = (action: string) => runCli(["server", action, "bench.config.ts", "--output-dir", dir]);
    let pid = 0;
    try {
      const started = await server("start");
      expect(started.exitCode).toBe(0);
      const match = /^SERVER STARTED (\d+)$/m.exec(started.stdout);
      expect(match).not.toBeNull();
      pid = Number(match![1]);
      expect(isGroupAlive(pid)).toBe(true); // llmbench has exited, the server has not
      const record = JSON.parse(readFileSync(join(dir, "servers/vllm.json"), "utf8"));
      expect(record).toMatchObject({ pid, backend: "vllm", model: "mock-7b", log: join(dir, "servers/vllm.log") });
      expect(readFileSync(record.log, "utf8")).toContain(`llmbench mock listening on ${record.url}`);

      const status = await server("status");
      expect(status.exitCode).toBe(0);
      expect(status.stdout).toStartWith(`up and ready: pid ${pid}, ${record.url}`);

      const again = await server("start");
      expect(again.exitCode).toBe(1);
      expect(again.stderr).toContain(`a vllm server is already running (pid ${pid}, ${record.url}); llmbench server stop first`);

      // A sweep finds the started server, uses it, and leaves it running.
      const sweep = await runCli(["sweep", "bench.config.ts", "--clients", "1", "--num-requests", "1", "--output-dir", dir, "--no-progress"]);
      if (sweep.exitCode !== 0) console.error(sweep.stdout, sweep.stderr);
      expect(sweep.exitCode).toBe(0);
      expect(sweep.stdout).toContain(`using the one llmbench server start launched (pid ${pid}, ${record.url})`);
      const date = readdirSync(dir).find((name) => /^\d{4}-/.test(name))!;
      const run = join(dir, date, readdirSync(join(dir, date))[0]!);
      expect(JSON.parse(readFileSync(join(run, "run.json"), "utf8")).server).toMatchObject({ origin: "recorded", pid, url: record.url });
      expect(isGroupAlive(pid)).toBe(true);

      const stopped = await server("stop");
      expect(stopped.exitCode).toBe(0);
      expect(stopped.stdout.trim()).toBe(`SERVER STOPPED ${pid}`);
      expect(isGroupAlive(pid)).toBe(false);
      expect(existsSync(join(dir, "servers/vllm.json"))).toBe(false);

      const after = await server("status");
      expect(after.exitCode).toBe(3);
      expect(after.stdout).toStartWith("not running: none started by llmbench server start;");
      const stopAgain = await server("stop");
      expect(stopAgain.exitCode).toBe(1);
      expect(stopAgain.stderr).toContain("no vllm server was started by llmbench server start");
    } finally {
      if (pid && isGroupAlive(pid)) process.kill(-pid, "SIGKILL");
    }
  }, 60_000);

  test("a server that fails to start: its log tail, exit 1, nothing recorded", async () => {
    const dir = tempDir();
    const config = join(dir, "failing.config.ts");
    writeFileSync(
      config,
      `export default {
  backend: "vllm",
  model: { tag: "m" },
  servers: { vllm: { url: "http://127.0.0.1:9", launch: { command: ["sh", "-c", "echo 'address already in use' >&2; exit 1"] } } },
  dataset: { path: ${JSON.stringify(DATASET)} },
  sweep: { clients: [1], numRequests: 1 },
};
`,
    );
    const result = await runCli(["server", "start", config]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("the server exited with code 1 before it was ready");
    expect(result.stderr).toContain("  | address already in use");
    expect(existsSync(join(dir, "result/servers/vllm.json"))).toBe(false);
  }, 30_000);

  test("an unknown action and a missing config are usage errors", async () => {
    const restart = await runCli(["server", "restart", "bench.config.ts"]);
    expect(restart.exitCode).toBe(2);
    expect(restart.stderr).toContain('server: expected start, stop or status, got "restart"');
    const noConfig = await runCli(["server", "status"]);
    expect(noConfig.exitCode).toBe(2);
    expect(noConfig.stderr).toContain("server status needs a config file");
  });
});
