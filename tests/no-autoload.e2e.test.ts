/** The shipped binary reads no `.env` or `bunfig.toml` from the folder it runs in (Bun's executables do by default). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

describe.skipIf(!process.env.LLMBENCH_BIN)("a .env and a bunfig.toml in the working folder", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1"]);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("change nothing: no shard settings and no preload taken from them", async () => {
    const dir = tempDir();
    // each would change the run if it were read: a bad shard count is a usage error, a preload prints
    writeFileSync(join(dir, ".env"), "LLMBENCH_SHARD_COUNT=abc\nLLMBENCH_SHARD_INDEX=0\n");
    writeFileSync(join(dir, "preload.ts"), 'console.log("PRELOADED");\n');
    writeFileSync(join(dir, "bunfig.toml"), 'preload = ["./preload.ts"]\n');
    const result = await runCli(
      ["run", "--base-url", mock.url, "--model", "m", "--dataset", "synthetic", "--input-len", "8", "--output-len", "2", "--num-requests", "2", "--result-dir", join(dir, "r"), "--no-progress"],
      { cwd: dir },
    );
    expect(result.stderr).not.toContain("LLMBENCH_SHARD_COUNT");
    expect(result.stdout).not.toContain("PRELOADED");
    expect(result.exitCode).toBe(0);
    const records = await readJsonl<{ status: string }>(join(dir, "r/requests.jsonl"));
    expect(records.map((r) => r.status)).toEqual(["ok", "ok"]);
  }, 60_000);
});
