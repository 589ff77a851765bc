/**
 * `llmbench sweep --find-max clients` against the simulator's batching model, whose knee follows
 * from its parameters. With every client starting at once (no ramp-up) and prefill made
 * negligible, the clients decode in lockstep, so each decode step lasts step + perSeq × N and a
 * request's TPOT is that step: TPOT(N) = STEP + PER_SEQ × N. A late timer only makes steps
 * longer, so noise can lower the answer, never raise it; the SLO is put halfway between two
 * client counts to leave the loaded machine half a per-seq cost (5 ms a step) of room.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATASET, runCli, tempDir } from "./helpers/cli.ts";

const STEP_MS = 10;
const PER_SEQ_MS = 10;
const TPOT_SLO_MS = 215;
const RESOLUTION = 2;
/** The most clients whose lockstep TPOT, STEP + PER_SEQ × N, is within the SLO. */
const KNEE = Math.floor((TPOT_SLO_MS - STEP_MS) / PER_SEQ_MS);

function writeConfig(dir: string): string {
  const path = join(dir, "bench.config.ts");
  writeFileSync(
    path,
    `import { defineConfig, freePort } from "llmbench";
const port = freePort();
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      launch: {
        command: (config, server) => [...server.llmbench, "mock", "--port", String(server.port),
          "--step-ms", "${STEP_MS}", "--step-ms-per-seq", "${PER_SEQ_MS}", "--prefill-tps", "100000000", "--max-batch", "1024"],
        readyTimeoutS: 30,
        stopGraceS: 3,
      },
    },
  },
  dataset: { path: ${JSON.stringify(DATASET)}, outputLen: 8 },
  // one round of requests per client: every client starts at 0 and none starts after 0.3 s
  sweep: { rampUpS: 0, stopTimeS: 0.3, drainTimeoutS: 30 },
});
`,
  );
  return path;
}

function runFolder(dir: string): string {
  const root = join(dir, "result");
  const date = readdirSync(root).find((name) => /^\d{4}-\d{2}-\d{2}$/.test(name))!;
  return join(root, date, readdirSync(join(root, date))[0]!);
}

interface SearchJson {
  axis: string;
  best: number | null;
  firstFail: number | null;
  slo: string;
  points: Array<{ value: number; run: number; phase: string; pass: boolean; failed: string[]; metrics: Record<string, number>; folder: string }>;
}

describe("capacity search", () => {
  test("finds the simulator's knee within one resolution step, with the evidence", async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const result = await runCli(
      ["sweep", config, "--no-progress", "--find-max", "clients", "--slo", `p99_ttft<=5000,p99_tpot<=${TPOT_SLO_MS}`, "--search-resolution", String(RESOLUTION)],
      { timeoutMs: 150_000 },
    );
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    const run = runFolder(dir);
    const search = JSON.parse(readFileSync(join(run, "search.json"), "utf8")) as SearchJson;
    expect(search.axis).toBe("clients");
    expect(search.best).not.toBeNull();
    expect(Math.abs(search.best! - KNEE)).toBeLessThanOrEqual(RESOLUTION);
    expect(result.stdout).toContain(`capacity: ${search.best} clients meets`);

    // The evidence: the best passed every run (it was rerun); every value above it failed a run, on TPOT
    // (a value just above may have passed one run on a quiet moment and failed its rerun).
    const runsOfBest = search.points.filter((p) => p.value === search.best);
    expect(runsOfBest.length).toBeGreaterThanOrEqual(2);
    expect(runsOfBest.every((p) => p.pass)).toBe(true);
    const above = [...new Set(search.points.filter((p) => p.value > search.best!).map((p) => p.value))];
    expect(above.length).toBeGreaterThan(0);
    for (const value of above) {
      const failures = search.points.filter((p) => p.value === value && !p.pass);
      expect(failures.length).toBeGreaterThan(0);
      for (const point of failures) {
        expect(point.failed.some((f) => f.startsWith("p99_tpot"))).toBe(true);
        expect(point.metrics.p99_tpot).toBeGreaterThan(TPOT_SLO_MS);
      }
    }
    // far above the knee, the model's TPOT (or more on a late machine) fails every run
    const thirtyTwo = search.points.filter((p) => p.value === 32);
    expect(thirtyTwo.length).toBeGreaterThan(0);
    for (const point of thirtyTwo) expect(point.metrics.p99_tpot).toBeGreaterThanOrEqual(STEP_MS + PER_SEQ_MS * 32 - 1);
    // Small loads measure what the model says (a late timer adds a little, never takes away).
    const four = search.points.find((p) => p.value === 4)!;
    expect(four.metrics.p99_tpot).toBeGreaterThanOrEqual(STEP_MS + PER_SEQ_MS * 4 - 1);
    expect(four.metrics.p99_tpot).toBeLessThan(STEP_MS + PER_SEQ_MS * 4 + 25);
    // Every probe is archived as a point of the sweep.
    const csv = readFileSync(join(run, "summary.csv"), "utf8").trim().split("\n");
    expect(csv.length - 1).toBe(search.points.length);
    for (const point of search.points) expect(readdirSync(join(run, point.folder))).toContain("requests.jsonl");
  }, 180_000);

  test("a bad --slo is a usage error before any server starts", async () => {
    const dir = tempDir();
    const config = writeConfig(dir);
    const result = await runCli(["sweep", config, "--find-max", "clients", "--slo", "p99_ttft<500"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain("--slo");
    expect(result.stderr).toContain("p99_ttft<500");
    const noSlo = await runCli(["sweep", config, "--find-max", "clients"]);
    expect(noSlo.exitCode).toBe(2);
    expect(noSlo.stderr).toContain("sweep.search.slo");
  }, 60_000);
});
