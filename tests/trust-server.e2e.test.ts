/** The server measured is the server launched, and none is left behind. Real processes on 127.0.0.1. */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "./helpers/cli.ts";
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
