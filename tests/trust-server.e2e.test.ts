/** The server measured is the server launched, and none is left behind. Real processes on 127.0.0.1. */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { isGroupAlive, isProcessAlive } from "../src/server/process-group.ts";
import { llmbenchArgv, runCli, tempDir } from "./helpers/cli.ts";
import { SIMULATOR, writeTrustConfig } from "./helpers/trust-config.ts";

describe("a port already taken before the launch", () => {
  test("sweep and server start refuse with exit 2, naming the port and the process holding it; nothing is launched", async () => {
    // This test's own process holds the port: /proc must name it.
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const dir = tempDir();
      const marker = join(dir, "launched");
      const config = writeTrustConfig(dir, { port: listener.port, command: `["sh", "-c", "touch ${marker}; exec \\"$@\\"", "sh", ...${SIMULATOR}]`, numRequests: 2 });
      for (const args of [["sweep", config, "--no-progress"], ["server", "start", config]]) {
        const result = await runCli(args);
        expect(result.exitCode).toBe(2);
        expect(result.stderr).toContain(`servers.vllm.url http://127.0.0.1:${listener.port}: port ${listener.port} is already in use`);
        expect(result.stderr).toContain(`pid ${process.pid} (`);
        expect(result.stderr).not.toContain("    at "); // a message, not a stack trace
      }
      expect(existsSync(marker)).toBe(false); // no server was launched
      expect(existsSync(join(dir, "result"))).toBe(false); // and no run archived
    } finally {
      listener.stop(true);
    }
  }, 60_000);
});

/** The run folder under `root` once the sweep has made it. */
function runFolderOf(root: string): string | null {
  const date = existsSync(root) ? readdirSync(root).find((name) => /^\d{4}-\d{2}-\d{2}$/.test(name)) : undefined;
  const run = date ? readdirSync(join(root, date))[0] : undefined;
  return date && run ? join(root, date, run) : null;
}

describe("llmbench killed by SIGKILL mid-sweep", () => {
  test("its launched server (and the server's child) is stopped within seconds; history and run.json say aborted", async () => {
    const dir = tempDir();
    const command = `["sh", "-c", "sleep 300 & echo $! > " + DIR + "/grandchild.pid; exec \\"$@\\"", "sh", ...${SIMULATOR}]`;
    const config = writeTrustConfig(dir, { command, clients: [1], stopTimeS: 120 });
    const child = Bun.spawn(llmbenchArgv("sweep", config, "--no-progress"), { env: { ...process.env, NO_COLOR: "1" }, stdout: "ignore", stderr: "ignore" });
    let serverPid = 0;
    let runDir = "";
    try {
      // Wait until the first point is measuring: its requests.jsonl exists.
      const deadline = Date.now() + 45_000;
      while (Date.now() < deadline && child.exitCode === null) {
        const run = runFolderOf(join(dir, "result"));
        if (run && existsSync(join(run, "01_clients-1", "requests.jsonl"))) {
          runDir = run;
          serverPid = JSON.parse(readFileSync(join(run, "run.json"), "utf8")).server?.pid ?? 0;
          if (serverPid) break;
        }
        await Bun.sleep(50);
      }
      expect(serverPid).toBeGreaterThan(0);
      expect(isGroupAlive(serverPid)).toBe(true);
      child.kill("SIGKILL");
      await child.exited;

      const grandchild = Number(readFileSync(join(dir, "grandchild.pid"), "utf8"));
      const gone = Date.now() + 20_000; // generous: SIGTERM, then SIGKILL after the 3 s grace
      while (Date.now() < gone && (isGroupAlive(serverPid) || isProcessAlive(grandchild))) await Bun.sleep(100);
      expect(isGroupAlive(serverPid)).toBe(false);
      expect(isProcessAlive(grandchild)).toBe(false);

      expect(JSON.parse(readFileSync(join(runDir, "run.json"), "utf8")).status).toBe("running"); // nobody has looked yet
      const history = await runCli(["history", "--output-dir", join(dir, "result")]);
      expect(history.exitCode).toBe(0);
      expect(history.stdout).toContain("aborted");
      expect(history.stdout).not.toContain("running");
      const info = JSON.parse(readFileSync(join(runDir, "run.json"), "utf8"));
      expect(info.status).toBe("aborted");
      expect(info.reason).toContain(`llmbench (pid ${child.pid}) ended without finishing the run`);
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
      if (serverPid && isGroupAlive(serverPid)) process.kill(-serverPid, "SIGKILL");
    }
  }, 90_000);

  test("a sweep that ends normally leaves no watchdog behind and is not marked aborted", async () => {
    const dir = tempDir();
    const config = writeTrustConfig(dir, { command: SIMULATOR, clients: [1], numRequests: 2 });
    const result = await runCli(["sweep", config, "--no-progress"]);
    expect(result.exitCode).toBe(0);
    const history = await runCli(["history", "--output-dir", join(dir, "result")]);
    expect(history.stdout).toContain("completed");
    const run = runFolderOf(join(dir, "result"))!;
    const serverPid = JSON.parse(readFileSync(join(run, "run.json"), "utf8")).server.pid;
    expect(serverPid).toBeGreaterThan(0);
    const deadline = Date.now() + 10_000; // released at the stop, it exits on its own
    while (Date.now() < deadline && watchdogsOf(serverPid).length > 0) await Bun.sleep(100);
    expect(watchdogsOf(serverPid)).toEqual([]);
  }, 60_000);
});

/** Live watchdog processes guarding the server group `pgid` (their argv names it). */
function watchdogsOf(pgid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const at = argv.indexOf("__server-watchdog");
      if (at !== -1 && argv[at + 1] === String(pgid) && isProcessAlive(Number(entry))) found.push(Number(entry));
    } catch {}
  }
  return found;
}
