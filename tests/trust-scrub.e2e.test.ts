import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";
import { writeTrustConfig } from "./helpers/trust-config.ts";

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

describe("a launched server that echoes the key and a launch secret", () => {
  test("sweep: neither reaches the run folder, the history or the console", async () => {
    const dir = tempDir();
    const launchSecret = "hf_launchsecret_5e8d2a91c4";
    const script = resolve(import.meta.dir, "helpers/echo-auth-server.ts");
    const config = writeTrustConfig(dir, {
      command: `[${JSON.stringify(process.execPath)}, ${JSON.stringify(script)}, String(server.port)]`,
      clients: [1, 2],
      numRequests: 3,
      apiKeyEnv: "ECHO_TEST_KEY",
      launchEnv: { HF_TOKEN: launchSecret },
    });
    const result = await runCli(["sweep", config, "--no-progress"], { env: { ECHO_TEST_KEY: KEY } });
    expect(result.exitCode).toBe(1); // every request failed with the 401
    const files = filesUnder(join(dir, "result"));
    expect(files.some((file) => file.endsWith("history.db"))).toBe(true);
    const records = files.filter((file) => file.endsWith("requests.jsonl")).map((file) => readFileSync(file, "utf8")).join("");
    expect(records).toContain("Bearer <redacted>");
    expect(records).toContain('\\"upstream_token\\":\\"<redacted>\\"');
    for (const file of files) {
      const bytes = readFileSync(file).toString("latin1");
      expect(bytes).not.toContain(KEY.slice(0, 12));
      expect(bytes).not.toContain(launchSecret.slice(0, 12));
    }
    expect(records).toContain("HTTP 401");
    expect(result.stdout).toContain("3 failed");
    expect(result.stdout + result.stderr).not.toContain(KEY.slice(0, 12));
    expect(result.stdout + result.stderr).not.toContain(launchSecret.slice(0, 12));
  }, 60_000);
});
