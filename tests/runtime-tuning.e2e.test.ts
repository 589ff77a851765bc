import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";

/** mimalloc prints its options at start with MIMALLOC_VERBOSE=1: each process image's, in the order they started. */
function purgeDelays(stderr: string): string[] {
  return [...stderr.matchAll(/option 'purge_delay': (-?\d+)/g)].map((match) => match[1]!);
}

/** A sweep whose launched "server" writes its environment to a file and fails: what a server we start inherits. */
function envDumpingConfig(dir: string): { config: string; envFile: string } {
  const envFile = join(dir, "server-env.txt");
  const config = join(dir, "env.config.ts");
  writeFileSync(
    config,
    `export default {
  backend: "vllm",
  model: { tag: "m" },
  servers: { vllm: { url: "http://127.0.0.1:9", launch: { command: ["sh", "-c", ${JSON.stringify(`env > ${envFile}; exit 1`)}] } } },
  dataset: { path: ${JSON.stringify(DATASET)} },
  sweep: { clients: [1], numRequests: 1 },
  output: { dir: ${JSON.stringify(join(dir, "result"))} },
};
`,
  );
  return { config, envFile };
}

describe("the allocator is tuned for the commands that measure (src/common/runtime-tuning.ts)", () => {
  test("run, sweep and mock start with mimalloc's purging off; other commands do not re-execute", async () => {
    const mock = await runCli(["mock", "--help"], { env: { MIMALLOC_VERBOSE: "1" } });
    expect(mock.exitCode).toBe(0);
    expect(purgeDelays(mock.stderr).at(-1)).toBe("-1");
    const history = await runCli(["history", "--help"], { env: { MIMALLOC_VERBOSE: "1" } });
    expect(history.exitCode).toBe(0);
    expect(purgeDelays(history.stderr)).toHaveLength(1); // one process image
    expect(purgeDelays(history.stderr)[0]).not.toBe("-1");
  }, 60_000);

  test("a server the sweep launches inherits none of it; the user's own setting is kept and passed on", async () => {
    const dir = tempDir();
    const { config, envFile } = envDumpingConfig(dir);
    const tuned = await runCli(["sweep", config, "--no-progress"], { env: { MIMALLOC_VERBOSE: "1" } });
    expect(tuned.stderr).toContain("before it was ready"); // the dumping server exits at once
    expect(purgeDelays(tuned.stderr)[1]).toBe("-1"); // [0]: before the re-exec; later ones: the server's watchdog (untuned)
    const inherited = readFileSync(envFile, "utf8");
    expect(inherited).not.toContain("MIMALLOC_PURGE_DELAY");
    expect(inherited).not.toContain("BUN_JSC_forceRAMSize");
    expect(inherited).not.toContain("LLMBENCH_RUNTIME_TUNED");

    const own = await runCli(["sweep", config, "--no-progress"], { env: { MIMALLOC_VERBOSE: "1", MIMALLOC_PURGE_DELAY: "50" } });
    expect(purgeDelays(own.stderr)[0]).toBe("50");
    expect(purgeDelays(own.stderr)).not.toContain("-1"); // no re-exec: the user chose
    expect(readFileSync(envFile, "utf8")).toContain("MIMALLOC_PURGE_DELAY=50");
  }, 60_000);
});
