/**
 * One registry entry is all a new metric takes: a copy of src/ with two entries added to
 * src/metrics/registry.ts (a number computed from the requests, and a distribution of a
 * per-request number) writes them into the CSV (after the seed's columns), summary.json, the
 * history (a column added to an existing history.db too), `compare`, the console and report.html,
 * with nothing else changed.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "..");
const work = mkdtempSync(join(tmpdir(), "llmbench-registry-entry-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const ENTRIES = `
  scalar({ name: "out_per_in", label: "out per in", unit: "", digits: 3, history: true, key: true, higherIsBetter: true, console: true,
           value: ({ requests }) => { let i = 0, o = 0; for (const r of requests) if (r.ok) { i += r.inTokens; o += r.outTokens; } return i > 0 ? o / i : null; } }),
  distribution({ name: "half_e2e", label: "half E2E", unit: "ms", digits: 1, columns: ["mean", "p99"], console: true, history: ["mean"], key: ["mean"], higherIsBetter: false,
                 sample: { over: "completed", value: (r) => r.e2e! / 2 } }),
`;

const SCRIPT = `
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RunHistory } from "./src/archive/history.ts";
import { writeSummaryFiles } from "./src/archive/result-files.ts";
import { statsOf } from "./src/metrics/request-stats.ts";
import { formatSummary } from "./src/report/console-summary.ts";
import { comparisonData } from "./src/report/history-report.ts";
import { EXTRA_COLUMNS, SEED_COLUMNS } from "./src/report/seed-columns.ts";
import { writeRunReport } from "./src/report/write-report.ts";
import { summarizePoint, summaryObject } from "./src/runner/point-summary.ts";

const out = process.argv[2];
const dir = join(out, "run");
mkdirSync(dir, { recursive: true });
const record = (send, inTokens, offsets) => ({
  user: 0, seq: 0, conversation: "0.0", turn: 0, prompt_index: 0, sent: true, send_ms: send, reconnected: false, queue_wait_ms: 0, status: "ok",
  error: null, in_tokens: inTokens, server_in_tokens: null, out_tokens: offsets.length, asked_out_tokens: offsets.length, short: false,
  ttft_ms: offsets[0], e2e_ms: offsets.at(-1), done_ms: offsets.at(-1) + 1, events: offsets.map((o) => [o, 1]), finish_reason: "stop",
  ttft_content_ms: offsets[0], reasoning_tokens: 0, answer_tokens: offsets.length, thinking_ms: null,
});
// E2E 40 and 80 ms; 4 + 2 output tokens over 10 + 20 input tokens
const records = [record(1000, 10, [10, 20, 30, 40]), record(1010, 20, [60, 80])];
writeFileSync(join(dir, "requests.jsonl"), records.map((r) => JSON.stringify(r)).join("\\n") + "\\n");
const inputs = { labels: { modelSize: "7", tp: 1, numClients: 2, mode: "" }, goodput: null, steadyWindowMs: [0, 1e15], gauges: {} };
const point = summarizePoint(records.map(statsOf), inputs);
const json = summaryObject(point, inputs, { numTurns: 1, serverGauges: { status: "off", gauges: {} }, rest: { backend: "vllm", model: "m", interrupted: false } });
writeSummaryFiles(dir, json, [point.row]);

const history = RunHistory.open(out, { create: true });
const ids = [process.argv[3] + "/1", process.argv[3] + "/2"].map((name, i) => {
  const id = history.beginRun({ name, dir, started_at: "2025-01-0" + (i + 1) + "T00:00:00Z", backend: "vllm", model: "m", model_size: 7, tp: 1, mode: "", dataset: "d", points_planned: 1, llmbench_version: "t", host: "h", pid: null, pid_start: null });
  history.recordPoint(id, { index: 0, point: { kind: "clients", clients: 2, rampUpS: 0 }, key: "clients=2", folder: "run", status: "done", reason: null, row: point.row, summary: point.summary });
  return id;
});
const stored = history.pointsOf(ids[0])[0];
const runs = ids.map((id) => history.findRun(String(id)));
const compared = comparisonData(runs[0], runs[1], history.pointsOf(ids[0]), history.pointsOf(ids[1]));
history.close();
writeRunReport(dir);
console.log(JSON.stringify({
  seed: SEED_COLUMNS, extra: EXTRA_COLUMNS, stored: { out_per_in: stored.out_per_in, mean_half_e2e: stored.mean_half_e2e },
  compared: Object.keys(compared.points[0].metrics), console: formatSummary("t", point).replace(/\\x1b\\[[0-9;]*m/g, ""),
}));
`;

async function runScript(args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const child = Bun.spawn([process.execPath, join(work, "script.ts"), ...args], { cwd: work, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { stdout, stderr, code };
}

describe("a metric is one registry entry", () => {
  test("it reaches the CSV's extra columns, summary.json, the history, compare, the console and report.html", async () => {
    cpSync(join(REPO, "src"), join(work, "src"), { recursive: true });
    cpSync(join(REPO, "package.json"), join(work, "package.json"));
    symlinkSync(join(REPO, "node_modules"), join(work, "node_modules"));
    const registryPath = join(work, "src/metrics/registry.ts");
    const registry = readFileSync(registryPath, "utf8");
    const marker = "  // (new metrics: add them above this line)\n";
    expect(registry).toContain(marker);
    writeFileSync(join(work, "script.ts"), SCRIPT);
    const out = join(work, "out");
    // first without the entries: a history.db without their columns
    const before = await runScript([out, "2025-01-01"]);
    expect(before.stderr).toBe("");
    expect(JSON.parse(before.stdout).stored).toEqual({});

    writeFileSync(registryPath, registry.replace(marker, ENTRIES + marker));
    const after = await runScript([out, "2025-01-02"]);
    expect(after.stderr).toBe("");
    expect(after.code).toBe(0);
    const result = JSON.parse(after.stdout);

    // the seed's 43 columns untouched, the new ones at the end of llmbench's
    expect(result.seed).toHaveLength(43);
    expect(result.extra.slice(-3)).toEqual(["out_per_in", "mean_half_e2e", "p99_half_e2e"]);
    const [header, line] = readFileSync(join(out, "run/summary.csv"), "utf8").trim().split("\n");
    const cells = Object.fromEntries(header!.split(",").map((column, i) => [column, line!.split(",")[i]]));
    // 6 output tokens over 30 input tokens; E2E 40 and 80 → halves 20 and 40 (numpy p99: 20 + 0.99·20)
    expect(cells).toMatchObject({ out_per_in: "0.200", mean_half_e2e: "30.000", p99_half_e2e: "39.800" });

    const json = JSON.parse(readFileSync(join(out, "run/summary.json"), "utf8"));
    expect(json.out_per_in).toBeCloseTo(0.2, 12);
    expect(json.mean_half_e2e).toBe(30);
    expect(json.steady.mean_half_e2e).toBe(30);

    expect(result.stored).toEqual({ out_per_in: json.out_per_in, mean_half_e2e: 30 });
    expect(result.compared).toEqual(expect.arrayContaining(["out_per_in", "mean_half_e2e"]));
    expect(result.console).toMatch(/half E2E ms\s+30\.00/);
    expect(result.console).toContain("out per in 0.200");

    const html = readFileSync(join(out, "run/report.html"), "utf8");
    expect(html).toContain('data-field="out_per_in"');
    expect(html).toContain('data-field="mean_half_e2e"');
    expect(html).toContain("p0-hist-half_e2e");
  }, 60_000);
});
