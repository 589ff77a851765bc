import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

/** A key the scan below can recognise anywhere (and that no scanner mistakes for a real token). */
const KEY = "llmbench-test-key-7f3a9c1e5b2d";
const MOCK_KEY_ENV = "LLMBENCH_TEST_MOCK_KEY";

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

const noKeys = { OPENAI_API_KEY: "", AMSV2_API_KEY: "" };

async function run(backend: string, url: string, dir: string, extra: string[] = [], env: Record<string, string> = {}) {
  return runCli(
    [
      "run", "--backend", backend, "--base-url", url, "--model", "m", "--dataset-path", DATASET,
      "--num-clients", "2", "--num-requests", "4", "--output-len", "8", "--result-dir", dir, "--no-progress", ...extra,
    ],
    { env: { ...noKeys, ...env } },
  );
}

describe("a simulator that requires a Bearer key (--api-key-env)", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--protocol", "vllm,openai-chat,lightllm,ppl,amsv2", "--ttft-ms", "5", "--itl-ms", "1", "--api-key-env", MOCK_KEY_ENV], {
      env: { [MOCK_KEY_ENV]: KEY },
    });
  });
  afterAll(async () => {
    await mock?.stop();
  });

  test("requests without the key are recorded as failed with the 401 and its message", async () => {
    const dir = tempDir();
    const result = await run("vllm", mock.urls.vllm!, dir); // /health needs no key, generation does
    expect(result.exitCode).toBe(1);
    const records = await readJsonl<{ status: string; error: string }>(join(dir, "requests.jsonl"));
    expect(records.length).toBe(4);
    for (const r of records) {
      expect(r.status).toBe("failed");
      expect(r.error).toStartWith("HTTP 401: ");
      expect(r.error).toContain("missing or invalid API key");
    }
  });

  test("a wrong key is refused the same way", async () => {
    const dir = tempDir();
    const result = await run("lightllm", mock.urls.lightllm!, dir, ["--api-key-env", "WRONG_KEY"], { WRONG_KEY: "not-the-key" });
    expect(result.exitCode).toBe(1);
    const summary = await Bun.file(join(dir, "summary.json")).json();
    expect(summary.failures).toEqual({ 'HTTP 401: {"message":"missing or invalid API key"}': 4 });
  });

  test("ppl without the key is answered UNAUTHENTICATED at the readiness check: exit 2, nothing sent", async () => {
    const dir = tempDir();
    const result = await run("ppl", mock.urls.ppl!, join(dir, "r"));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--base-url ${mock.urls.ppl}: the ppl server is not reachable`);
    expect(result.stderr).toContain("gRPC UNAUTHENTICATED: missing or invalid API key");
    expect(await Bun.file(join(dir, "r/requests.jsonl")).exists()).toBe(false);
  });

  test("amsv2 without the key: its one-token readiness request gets the 401, exit 2", async () => {
    const result = await run("amsv2", mock.urls.amsv2!, join(tempDir(), "r"));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("HTTP 401");
  });

  test("with the key every backend completes, and the key appears in no file the run wrote nor in its output", async () => {
    const cases: Array<{ backend: string; extra: string[]; env: Record<string, string> }> = [
      { backend: "vllm", extra: [], env: { OPENAI_API_KEY: KEY } }, // the default variable
      { backend: "openai-chat", extra: ["--api-key-env", "MY_GATEWAY_KEY"], env: { MY_GATEWAY_KEY: KEY } },
      { backend: "ppl", extra: ["--api-key-env", "PPL_KEY"], env: { PPL_KEY: KEY } }, // as gRPC metadata
      { backend: "amsv2", extra: [], env: { AMSV2_API_KEY: KEY } }, // the default variable
    ];
    for (const c of cases) {
      const dir = tempDir();
      const result = await run(c.backend, mock.urls[c.backend]!, dir, c.extra, c.env);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.completed).toBe(4); // the key was sent: the simulator refuses requests without it
      expect(summary.api_key).toMatch(/^from \$\w+ \(redacted\)$/);
      const written = filesUnder(dir);
      expect(written.map((path) => path.slice(dir.length + 1)).sort()).toEqual(["report.html", "requests.jsonl", "summary.csv", "summary.json"]);
      for (const path of written) expect(readFileSync(path, "utf8")).not.toContain(KEY);
      expect(result.stdout).not.toContain(KEY);
      expect(result.stderr).not.toContain(KEY);
    }
  }, 60_000);

  test("probe sends the key and does not print it", async () => {
    const result = await runCli(["probe", "--backend", "vllm", "--base-url", mock.urls.vllm!, "--output-len", "3"], { env: { OPENAI_API_KEY: KEY } });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("API key from $OPENAI_API_KEY (redacted)");
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });
});
