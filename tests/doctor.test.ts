import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { judgeClock } from "../src/doctor/checks/clock.ts";
import { estimateRecordsBytes, judgeDisk, measureRecordsSize } from "../src/doctor/checks/disk.ts";
import { judgeOpenFiles, RESERVED_FDS } from "../src/doctor/checks/open-files.ts";
import { judgePorts } from "../src/doctor/checks/ports.ts";
import { judgeSomaxconn } from "../src/doctor/checks/somaxconn.ts";
import { ASSUMED_REQUEST_S, planFromClients, pointConcurrency, type DoctorPlan } from "../src/doctor/plan.ts";
import { DATASET, llmbenchArgv, runCli, startMock, tempDir } from "./helpers/cli.ts";

const plan = (overrides: Partial<DoctorPlan> = {}): DoctorPlan => ({ ...planFromClients(1000, "/tmp"), ...overrides });

/** llmbench run with the open-file limit (soft and hard) lowered first, as `ulimit -n 256` in a shell does. */
async function withFileLimit(limit: number, args: string[]) {
  const child = Bun.spawn(["sh", "-c", `ulimit -n ${limit} && exec "$@"`, "sh", ...llmbenchArgv(...args)], {
    env: { ...process.env, NO_COLOR: "1" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { stdout, stderr, exitCode };
}

/** A 1,000-client sweep config in `dir` whose server, if it were ever launched, would leave a marker file. */
function thousandClientConfig(dir: string, datasetPath = DATASET): string {
  const path = join(dir, "bench.config.ts");
  writeFileSync(
    path,
    `import { defineConfig, freePort } from "llmbench";
const port = freePort();
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim-7b", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      launch: { command: (config, server) => ["sh", "-c", "touch ${dir}/launched; exec \\"$@\\"", "sh", ...server.llmbench, "mock", "--port", String(server.port)], readyTimeoutS: 30 },
    },
  },
  dataset: { path: ${JSON.stringify(datasetPath)}, outputLen: 64 },
  sweep: { clients: [100, 1000], numRequests: 2000, rampUpS: 0 },
  output: { dir: ${JSON.stringify(join(dir, "result"))} },
});
`,
  );
  return path;
}

describe("doctor's judgments, against hand-computed limits", () => {
  test("open files: 256 cannot carry 1,000 connections (+ the reserve); the fix says how to raise it", () => {
    const finding = judgeOpenFiles({ before: { soft: 256, hard: 256 }, after: { soft: 256, hard: 256 } }, plan());
    expect(finding.status).toBe("fail");
    expect(finding.detail).toContain(`${1000 + RESERVED_FDS} needed for 1000 connections`);
    expect(finding.fix).toContain("ulimit -n 65536");
    expect(finding.fix).toContain("LimitNOFILE=65536");
  });

  test("open files: exactly connections + reserve is enough; a raise is reported", () => {
    const exact = { soft: 1000 + RESERVED_FDS, hard: 4096 };
    expect(judgeOpenFiles({ before: exact, after: exact }, plan()).status).toBe("ok");
    const oneShort = { soft: 1000 + RESERVED_FDS - 1, hard: 1000 + RESERVED_FDS - 1 };
    expect(judgeOpenFiles({ before: oneShort, after: oneShort }, plan()).status).toBe("fail");
    const raised = judgeOpenFiles({ before: { soft: 1024, hard: 4096 }, after: { soft: 4096, hard: 4096 } }, plan());
    expect(raised.status).toBe("ok");
    expect(raised.detail).toContain("raised from soft 1024, hard 4096");
  });

  test("ports: more connections than the range fails, more than half warns", () => {
    expect(judgePorts({ low: 60000, high: 60998 }, plan()).status).toBe("fail"); // 999 ports < 1000
    expect(judgePorts({ low: 60000, high: 60999 }, plan()).status).toBe("warn"); // 1000 ports: fits, but 1000 > 500
    expect(judgePorts({ low: 60000, high: 61998 }, plan()).status).toBe("warn"); // 1999 ports: 1000 > 999.5
    expect(judgePorts({ low: 60000, high: 61999 }, plan()).status).toBe("ok"); // 2000 ports: 1000 is half
    expect(judgePorts({ low: 32768, high: 60999 }, plan()).status).toBe("ok");
    expect(judgePorts(null, plan()).status).toBe("skip");
  });

  test("somaxconn only matters for a server launched here", () => {
    expect(judgeSomaxconn(128, plan()).status).toBe("skip");
    const local = plan({ launchesLocalServer: true });
    expect(judgeSomaxconn(999, local).status).toBe("warn");
    expect(judgeSomaxconn(999, local).fix).toContain("net.core.somaxconn=4096");
    expect(judgeSomaxconn(1000, local).status).toBe("ok");
  });

  test("clock: hpet, or a slow read, warns and names a faster source the kernel offers", () => {
    expect(judgeClock({ current: "tsc", available: ["tsc", "hpet"], nsPerRead: 30 }).status).toBe("ok");
    const hpet = judgeClock({ current: "hpet", available: ["tsc", "hpet", "acpi_pm"], nsPerRead: 1800 });
    expect(hpet.status).toBe("warn");
    expect(hpet.fix).toContain("echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource");
    expect(judgeClock({ current: "kvm-clock", available: ["kvm-clock"], nsPerRead: 900 }).status).toBe("warn");
  });

  test("rate points become connections by Little's law, capped by the request budget", () => {
    expect(pointConcurrency({ kind: "clients", clients: 64, rampUpS: 0 }, null)).toBe(64);
    expect(pointConcurrency({ kind: "rate", rate: 2.5 }, null)).toBe(Math.ceil(2.5 * ASSUMED_REQUEST_S));
    expect(pointConcurrency({ kind: "rate", rate: 100 }, 500)).toBe(500);
    expect(pointConcurrency({ kind: "rate", rate: Infinity }, 1000)).toBe(1000);
  });

  test("disk: 2,000 requests × 64 tokens at 25 B/token = 2000 × (400 + 1600) B = 4 MB", () => {
    expect(estimateRecordsBytes(2000, 64, 25)).toBe(4_000_000);
    const records = { bytesPerToken: 25, measuredFrom: "/x/requests.jsonl" };
    const sweep = plan({ plannedRequests: 2000 });
    const tokens = { tokens: 64, source: "dataset.outputLen" };
    expect(judgeDisk({ dir: "/x", freeBytes: 3_999_999, records }, sweep, tokens).status).toBe("fail");
    expect(judgeDisk({ dir: "/x", freeBytes: 4_000_000, records }, sweep, tokens).status).toBe("warn");
    expect(judgeDisk({ dir: "/x", freeBytes: 8_000_000, records }, sweep, tokens).status).toBe("ok");
  });
});

describe("llmbench doctor on this host", () => {
  test("bytes per token are measured from the newest records file: its size over its output tokens", async () => {
    const dir = tempDir();
    const mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1"]);
    try {
      const result = await runCli([
        "run", "--backend", "vllm", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET,
        "--num-clients", "4", "--num-requests", "16", "--output-len", "40", "--result-dir", join(dir, "2026-01-01", "run1"), "--no-progress",
      ]);
      expect(result.exitCode).toBe(0);
    } finally {
      await mock.stop();
    }
    const file = join(dir, "2026-01-01", "run1", "requests.jsonl");
    const measured = measureRecordsSize(dir);
    expect(measured.measuredFrom).toBe(file);
    expect(measured.bytesPerToken).toBeCloseTo(Bun.file(file).size / (16 * 40), 6);
  }, 60_000);

  test("`ulimit -n 256` before a 1,000-client sweep: doctor says FAIL with the fix, exit 1", async () => {
    const dir = tempDir();
    const config = thousandClientConfig(dir);
    const result = await withFileLimit(256, ["doctor", config]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toContain("peak 1000 connections (clients=1000), server launched on this host");
    expect(result.stdout).toMatch(/FAIL\s+open files\s+soft 256, hard 256: 1100 needed for 1000 connections/);
    expect(result.stdout).toContain("fix: raise the limit in the shell that runs llmbench, then run again: ulimit -n 65536");
    expect(result.stdout).toMatch(/ok\s+dataset/);
    // 2 points × 2,000 requests × 64 tokens
    expect(result.stdout).toMatch(/disk .*4000 requests × 64 tokens \(dataset\.outputLen\)/);
  }, 60_000);

  test("the same limit with enough room for 100 clients: exit 0", async () => {
    const dir = tempDir();
    const result = await withFileLimit(256, ["doctor", thousandClientConfig(dir), "--clients", "100"]);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/ok\s+open files\s+soft 256, hard 256: 200 needed for 100 connections/);
  }, 60_000);

  test("`ulimit -Sn 256` lowers only the soft limit: llmbench lifts it to the hard one by itself", async () => {
    const hard = Number(readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+\S+\s+(\S+)/m)![1]);
    const child = Bun.spawn(["sh", "-c", `ulimit -Sn 256 && exec "$@"`, "sh", ...llmbenchArgv("doctor", "--clients", "1000", "--output-dir", tempDir())], {
      env: { ...process.env, NO_COLOR: "1" },
      stdout: "pipe",
    });
    const [stdout, exitCode] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    if (hard >= 1000 + RESERVED_FDS) {
      expect(exitCode).toBe(0);
      expect(stdout).toMatch(new RegExp(`ok\\s+open files\\s+soft ${hard}, hard ${hard}: 1100 needed`));
    } else {
      expect(exitCode).toBe(1);
      expect(stdout).toMatch(/FAIL\s+open files/);
    }
  }, 60_000);

  test("the sweep runs the doctor itself and stops before launching the server (exit 2), naming --no-doctor", async () => {
    const dir = tempDir();
    const result = await withFileLimit(256, ["sweep", thousandClientConfig(dir), "--no-progress"]);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toMatch(/FAIL\s+open files\s+soft 256, hard 256/);
    expect(result.stderr).toContain("--no-doctor");
    expect(existsSync(join(dir, "launched"))).toBe(false);
    expect(existsSync(join(dir, "result")) ? readdirSync(join(dir, "result")) : []).toEqual([]);
  }, 60_000);

  test("a dataset that does not parse is a FAIL naming the file; a bad flag is exit 2", async () => {
    const dir = tempDir();
    const broken = join(dir, "broken.json");
    mkdirSync(dir, { recursive: true });
    writeFileSync(broken, "[{ this is not json");
    const result = await runCli(["doctor", thousandClientConfig(dir, broken), "--clients", "4"]);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toMatch(/FAIL\s+dataset\s+.*broken\.json/);
    const usage = await runCli(["doctor", "--clients", "0"]);
    expect(usage.exitCode).toBe(2);
    expect(usage.stderr).toContain("--clients");
    const noConfig = await runCli(["doctor", "--rates", "5"]);
    expect(noConfig.exitCode).toBe(2);
    expect(noConfig.stderr).toContain("--rates and --num-requests need a config");
  }, 60_000);
});
