/**
 * Release binaries for other machines, run here: the ARM64 build under qemu-user (its --version,
 * its doctor, and a short run against an x86-64 `llmbench mock` on 127.0.0.1: cross-architecture,
 * same wire), the musl builds by their ELF interpreter (Debian's `musl` gives the loader but not
 * the musl-built libstdc++ that Bun's musl binary links, so they cannot run here). qemu and the
 * ARM64 libc come from .ci/run; without them the qemu tests skip, except in CI.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { gitCommit, readElf, RELEASE_TARGETS, releaseFileName, type ReleaseTarget } from "../scripts/release.ts";
import { VERSION } from "../src/version.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const ROOT = resolve(import.meta.dir, "..");
const QEMU = "/usr/bin/qemu-aarch64-static";
const ARM64_SYSROOT = "/usr/aarch64-linux-gnu";
const haveQemu = existsSync(QEMU) && existsSync(join(ARM64_SYSROOT, "lib/ld-linux-aarch64.so.1"));
const inCi = process.env.CI === "true";
const skipQemu = !haveQemu && !inCi;
if (skipQemu) {
  console.warn(`release.test.ts: SKIPPING the ARM64-under-qemu tests: ${QEMU} or ${ARM64_SYSROOT} is missing (apt-get install qemu-user-static libc6-arm64-cross, as .ci/run does)`);
}

const BUILT = ["linux-arm64", "linux-x64-musl", "linux-arm64-musl"].map((name) => RELEASE_TARGETS.find((t) => t.name === name)!);
const target = (name: string): ReleaseTarget => BUILT.find((t) => t.name === name)!;

async function run(argv: string[], timeoutMs = 120_000, cwd = ROOT) {
  const child = Bun.spawn(argv, { cwd, env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode };
}

const underQemu = (binary: string, ...args: string[]) => [QEMU, "-L", ARM64_SYSROOT, binary, ...args];

test("--version of the llmbench under test: its target, the Bun that built it and the commit (from source: the running Bun)", async () => {
  const result = await runCli(["--version"]);
  expect(result.exitCode).toBe(0);
  const line = result.stdout.trim();
  if (process.env.LLMBENCH_BIN === undefined) {
    expect(line).toBe(`llmbench/${VERSION} source bun-${Bun.version} commit unknown`);
  } else {
    // the binary may predate the last commit; the ARM64 test below checks the commit exactly
    expect(line).toMatch(new RegExp(`^llmbench/${VERSION} ${process.platform}-${process.arch} bun-${Bun.version.replaceAll(".", "\\.")} commit [0-9a-f]{12}(-dirty)?$`));
  }
}, 30_000);

describe("release binaries for ARM64 and musl", () => {
  let dist: string;
  let buildSeconds: number;

  beforeAll(async () => {
    dist = tempDir("llmbench-release-");
    const started = performance.now();
    const result = await run([process.execPath, "scripts/release.ts", "--targets", BUILT.map((t) => t.name).join(","), "--out-dir", dist], 400_000);
    buildSeconds = (performance.now() - started) / 1000;
    if (result.exitCode !== 0) throw new Error(`release build failed:\n${result.stdout}\n${result.stderr}`);
    console.log(`release.test.ts: built ${BUILT.map((t) => t.name).join(", ")} in ${buildSeconds.toFixed(1)} s`);
  }, 420_000);
  afterAll(() => rmSync(dist, { recursive: true, force: true })); // ~370 MB of binaries

  test("each file is named for its target, and SHA256SUMS verifies with sha256sum -c", async () => {
    const lines = readFileSync(join(dist, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(lines.map((line) => line.split("  ")[1])).toEqual(BUILT.map(releaseFileName));
    for (const line of lines) expect(line).toMatch(/^[0-9a-f]{64}  llmbench-[\w.-]+$/);
    const check = await run(["sha256sum", "-c", "SHA256SUMS"], 60_000, dist);
    expect(check.exitCode).toBe(0);
    for (const t of BUILT) expect(check.stdout).toContain(`${releaseFileName(t)}: OK`);
  }, 60_000);

  test("a corrupted download fails the check", async () => {
    const name = releaseFileName(target("linux-arm64"));
    const bad = join(dist, "corrupted");
    const sums = readFileSync(join(dist, "SHA256SUMS"), "utf8").split("\n").filter((line) => line.endsWith(`  ${name}`));
    await Bun.write(join(bad, "SHA256SUMS"), sums.join("\n") + "\n"); // Bun.write makes the folder
    const bytes = new Uint8Array(await Bun.file(join(dist, name)).arrayBuffer());
    bytes[bytes.length - 1]! ^= 0xff;
    await Bun.write(join(bad, name), bytes);
    const check = await run(["sha256sum", "-c", "SHA256SUMS"], 60_000, bad);
    expect(check.exitCode).not.toBe(0);
    expect(check.stdout).toContain(`${name}: FAILED`);
  }, 60_000);

  test("ELF headers: machine and interpreter of each target (the host's llmbench is the known x86-64 glibc case)", () => {
    expect(readElf(process.execPath)).toEqual({ machine: process.arch === "arm64" ? "aarch64" : "x86-64", interpreter: expect.stringContaining("/ld-") });
    expect(readElf(join(dist, releaseFileName(target("linux-arm64"))))).toEqual({ machine: "aarch64", interpreter: "/lib/ld-linux-aarch64.so.1" });
    expect(readElf(join(dist, releaseFileName(target("linux-x64-musl"))))).toEqual({ machine: "x86-64", interpreter: "/lib/ld-musl-x86_64.so.1" });
    expect(readElf(join(dist, releaseFileName(target("linux-arm64-musl"))))).toEqual({ machine: "aarch64", interpreter: "/lib/ld-musl-aarch64.so.1" });
    expect(readElf(join(dist, "SHA256SUMS"))).toBeNull();
  });

  test.skipIf(skipQemu)("the ARM64 binary runs under qemu: --version names its target, the Bun that built it and the commit", async () => {
    const result = await run(underQemu(join(dist, releaseFileName(target("linux-arm64"))), "--version"));
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    expect(result.stdout.trim()).toBe(`llmbench/${VERSION} linux-arm64 bun-${Bun.version} commit ${gitCommit()}`);
  }, 120_000);

  test.skipIf(skipQemu)("the ARM64 binary's doctor reads and raises limits through libc (bun:ffi) under qemu", async () => {
    const result = await run(underQemu(join(dist, releaseFileName(target("linux-arm64"))), "doctor", "--clients", "8", "--output-dir", tempDir()));
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/ok\s+open files\s+soft \d+, hard \d+: 108 needed for 8 connections/);
  }, 120_000);

  describe.skipIf(skipQemu)("a short run of the ARM64 binary against the x86-64 simulator on 127.0.0.1", () => {
    let mock: MockHandle;
    let dir: string;
    let exitCode: number;
    let output: string;

    beforeAll(async () => {
      dir = tempDir();
      mock = await startMock(["--ttft-ms", "20", "--itl-ms", "5", "--truth-log", join(dir, "truth.jsonl")]);
      const result = await run(
        underQemu(
          join(dist, releaseFileName(target("linux-arm64"))),
          "run", "--backend", "vllm", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET,
          "--num-clients", "4", "--num-requests", "12", "--output-len", "16", "--result-dir", join(dir, "result"), "--no-progress",
        ),
        180_000,
      );
      exitCode = result.exitCode;
      output = result.stdout + result.stderr;
      await mock.stop();
    }, 200_000);

    test("every request completes with the asked length, as the simulator's truth log says it sent", async () => {
      if (exitCode !== 0) console.error(output);
      expect(exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "result/summary.json")).json();
      expect(summary.completed).toBe(12);
      expect(summary.failed).toBe(0);
      const truth = await readJsonl<{ output_tokens: number; token_ms: number[] }>(join(dir, "truth.jsonl"));
      const records = await readJsonl<{ out_tokens: number; send_ms: number; ttft_ms: number; events: unknown[] }>(join(dir, "result/requests.jsonl"));
      expect(truth.length).toBe(12);
      expect(records.length).toBe(12);
      expect(truth.map((t) => t.output_tokens)).toEqual(Array(12).fill(16));
      for (const record of records) {
        expect(record.out_tokens).toBe(16);
        expect(record.events.length).toBe(16);
      }
      // No first token is seen before the simulator wrote one (1 ms of clock rounding allowed).
      const written = truth.map((t) => t.token_ms[0]!).sort((a, b) => a - b);
      const seen = records.map((r) => r.send_ms + r.ttft_ms).sort((a, b) => a - b);
      seen.forEach((at, i) => expect(at - written[i]!).toBeGreaterThanOrEqual(-1));
    });
  });
});
