import { afterEach, describe, expect, test } from "bun:test";
import { parseBackendFlags } from "../src/config/backend-flags.ts";
import { parseMockOptions } from "../src/config/mock-options.ts";
import { UsageError } from "../src/config/usage-error.ts";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";

/** The flags that pick and reach a server are checked per backend, before any request. */

const usageError = (action: () => unknown): string => {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error("expected a UsageError");
};

describe("--backend, --base-url, --api-key-env, --ppl-proto", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });

  test("each backend has its usual local address and key variable by default", () => {
    expect(parseBackendFlags({})).toMatchObject({ backend: "vllm", baseUrl: "http://127.0.0.1:8000", apiKeyEnv: "OPENAI_API_KEY", pplProto: "v2" });
    expect(parseBackendFlags({ backend: "openai-chat" })).toMatchObject({ apiKeyEnv: "OPENAI_API_KEY" });
    expect(parseBackendFlags({ backend: "lightllm" })).toMatchObject({ baseUrl: "http://127.0.0.1:8080", apiKeyEnv: null });
    expect(parseBackendFlags({ backend: "sglang" })).toMatchObject({ baseUrl: "http://127.0.0.1:30000" });
    expect(parseBackendFlags({ backend: "ppl" })).toMatchObject({ baseUrl: "127.0.0.1:23333", apiKeyEnv: null });
    expect(parseBackendFlags({ backend: "amsv2", baseUrl: "https://ams.example.com/v2/" })).toMatchObject({
      baseUrl: "https://ams.example.com/v2",
      apiKeyEnv: "AMSV2_API_KEY",
    });
  });

  test("ppl takes host:port without a scheme, as the seed writes it; HTTP backends take URLs", () => {
    expect(parseBackendFlags({ backend: "ppl", baseUrl: "10.0.0.5:23333", pplProto: "v1" })).toMatchObject({ baseUrl: "10.0.0.5:23333", pplProto: "v1" });
    expect(parseBackendFlags({ backend: "ppl", baseUrl: "[::1]:23333" }).baseUrl).toBe("[::1]:23333");
    expect(usageError(() => parseBackendFlags({ backend: "ppl", baseUrl: "http://127.0.0.1:23333" }))).toBe(
      '--base-url: --backend ppl speaks gRPC and takes host:port without a scheme, such as 127.0.0.1:23333, got "http://127.0.0.1:23333"',
    );
    expect(usageError(() => parseBackendFlags({ backend: "ppl", baseUrl: "127.0.0.1" }))).toContain("takes host:port");
    expect(usageError(() => parseBackendFlags({ backend: "ppl", baseUrl: "127.0.0.1:70000" }))).toContain("takes host:port");
    expect(usageError(() => parseBackendFlags({ backend: "lightllm", baseUrl: "127.0.0.1:8080" }))).toBe('--base-url: expected a URL such as http://127.0.0.1:8000, got "127.0.0.1:8080"');
  });

  test("amsv2 has no default address", () => {
    expect(usageError(() => parseBackendFlags({ backend: "amsv2" }))).toBe("--base-url is required with --backend amsv2 (it has no default address)");
  });

  test("--api-key-env must name a variable that is set; its value is never part of the options", () => {
    delete process.env.LLMBENCH_UNSET_KEY;
    expect(usageError(() => parseBackendFlags({ apiKeyEnv: "LLMBENCH_UNSET_KEY" }))).toBe("--api-key-env LLMBENCH_UNSET_KEY: that environment variable is not set");
    process.env.LLMBENCH_SET_KEY = "value-that-must-not-appear";
    const flags = parseBackendFlags({ backend: "tgi", apiKeyEnv: "LLMBENCH_SET_KEY" });
    expect(flags.apiKeyEnv).toBe("LLMBENCH_SET_KEY");
    expect(JSON.stringify(flags)).not.toContain("value-that-must-not-appear");
  });

  test("--ppl-proto is v1 or v2, and only for ppl", () => {
    expect(usageError(() => parseBackendFlags({ backend: "ppl", pplProto: "v3" }))).toBe('--ppl-proto: expected one of v1, v2, got "v3"');
    expect(usageError(() => parseBackendFlags({ backend: "vllm", pplProto: "v1" }))).toBe("--ppl-proto applies only to --backend ppl, not vllm");
  });
});

describe("mock --protocol, --api-key-env, --fail-after-tokens", () => {
  test("a comma-separated list of known protocols, each once", () => {
    expect(parseMockOptions({ protocol: "vllm, ppl,tgi", port: 9000 })).toMatchObject({ protocols: ["vllm", "ppl", "tgi"], port: 9000 });
    expect(usageError(() => parseMockOptions({ protocol: "vllm,nope" }))).toContain('--protocol: expected one or more (comma-separated) of vllm, openai-chat');
    expect(usageError(() => parseMockOptions({ protocol: "vllm,vllm" }))).toBe('--protocol: each protocol once, got "vllm,vllm"');
    expect(usageError(() => parseMockOptions({ protocol: "vllm,tgi", port: 65535 }))).toBe("--port: expected 0..65535, got 65535");
  });

  test("faults and keys", () => {
    expect(parseMockOptions({ failAfterTokens: "3", ignoreEos: true }).faults).toEqual({ failAfterTokens: 3, ignoreEos: true, maxOutputTokens: null });
    expect(parseMockOptions({ maxOutputTokens: "12" }).faults.maxOutputTokens).toBe(12);
    expect(usageError(() => parseMockOptions({ failAfterTokens: "x" }))).toContain("--fail-after-tokens: expected a non-negative integer");
    delete process.env.LLMBENCH_UNSET_MOCK_KEY;
    expect(usageError(() => parseMockOptions({ apiKeyEnv: "LLMBENCH_UNSET_MOCK_KEY" }))).toContain("that environment variable is not set");
  });
});

describe("bad backend flags stop the run with exit code 2 before any request", () => {
  test("a URL with a scheme for ppl", async () => {
    const dir = tempDir();
    const result = await runCli([
      "run", "--backend", "ppl", "--base-url", "http://127.0.0.1:23333", "--model", "m", "--dataset-path", DATASET, "--num-requests", "1", "--result-dir", dir,
    ]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--base-url: --backend ppl speaks gRPC and takes host:port without a scheme");
  });

  test("an unreachable ppl server is named with the gRPC reason, quickly", async () => {
    const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = probe.port;
    probe.stop(true);
    const started = Date.now();
    const result = await runCli(["run", "--backend", "ppl", "--base-url", `127.0.0.1:${port}`, "--model", "m", "--dataset-path", DATASET, "--num-requests", "1"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`--base-url 127.0.0.1:${port}: the ppl server is not reachable (a one-token request failed: gRPC UNAVAILABLE`);
    expect(result.stderr).toContain("ECONNREFUSED");
    expect(Date.now() - started).toBeLessThan(20_000); // one attempt, not a retry loop
  });
});
