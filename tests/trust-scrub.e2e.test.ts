import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";

/**
 * A gateway that echoes the request's Authorization header in its 401 body (as proxies do), over
 * real HTTP on 127.0.0.1. The simulator's own echo-auth fault gets its test beside the fault matrix.
 */
const KEY = "llmbench-echo-key-93b1f0c2d7e4";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("a server that echoes the Authorization header", () => {
  let server: ReturnType<typeof Bun.serve>;
  let url: string;
  beforeAll(() => {
    server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(request) {
        if (new URL(request.url).pathname === "/health") return new Response("ok");
        const auth = request.headers.get("authorization") ?? "";
        return Response.json({ error: "invalid key", echoed_headers: { authorization: auth }, hint: `you sent ${auth}` }, { status: 401 });
      },
    });
    url = `http://127.0.0.1:${server.port}`;
  });
  afterAll(() => server?.stop(true));

  test("run: the key reaches no record, summary, nor the console", async () => {
    const dir = tempDir();
    const result = await runCli(
      ["run", "--backend", "vllm", "--base-url", url, "--model", "m", "--dataset-path", DATASET, "--num-clients", "2", "--num-requests", "4",
        "--output-len", "8", "--result-dir", dir, "--no-progress", "--api-key-env", "ECHO_TEST_KEY"],
      { env: { ECHO_TEST_KEY: KEY } },
    );
    expect(result.exitCode).toBe(1); // every request failed with the 401
    const records = readFileSync(join(dir, "requests.jsonl"), "utf8");
    expect(records.split("\n").filter(Boolean).length).toBe(4);
    expect(records).toContain("HTTP 401");
    expect(records).toContain("Bearer <redacted>"); // the echo is kept, minus the key
    const files = filesUnder(dir);
    expect(files.some((file) => file.endsWith("summary.json"))).toBe(true);
    for (const file of files) expect(readFileSync(file, "utf8")).not.toContain(KEY.slice(0, 12));
    expect(result.stdout + result.stderr).toContain("HTTP 401");
    expect(result.stdout + result.stderr).not.toContain(KEY.slice(0, 12));
  }, 60_000);

  test("probe: its report shows the failure without the key", async () => {
    const result = await runCli(["probe", "--backend", "openai-chat", "--base-url", url, "--model", "m", "--prompt", "hi", "--api-key-env", "ECHO_TEST_KEY"], {
      env: { ECHO_TEST_KEY: KEY },
    });
    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).toContain("401");
    expect(result.stdout + result.stderr).not.toContain(KEY.slice(0, 12));
  }, 60_000);
});
