/**
 * report.html and the comparison page, end to end: real sweeps and runs against the simulator,
 * then each page loaded in headless Chromium with the network cut off.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { formatCell } from "../src/report/csv.ts";
import { chartStates, CHROMIUM, fieldCells, hasChromium, launchBrowser, openReport, screenshot, type FieldCell } from "./helpers/browser.ts";
import { DATASET, llmbenchArgv, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

function writeSweepConfig(dir: string, numRequests: number): string {
  const path = join(dir, "bench.config.ts");
  writeFileSync(
    path,
    `import { defineConfig, freePort } from "llmbench";
const port = freePort();
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim-7b", sizeB: 7, tp: 1, mode: "fp16", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      launch: { command: (config, server) => [...server.llmbench, "mock", "--port", String(server.port), "--ttft-ms", "20", "--itl-ms", "4"], readyTimeoutS: 30, stopGraceS: 3 },
    },
  },
  dataset: { path: ${JSON.stringify(DATASET)}, outputLen: 24 },
  sweep: { clients: [1, 4, 8], numRequests: ${numRequests}, rampUpS: (clients) => clients * 0.05, drainTimeoutS: 5 },
});
`,
  );
  return path;
}

function runFolder(resultRoot: string): string {
  const date = readdirSync(resultRoot).find((name) => /^\d{4}-\d{2}-\d{2}$/.test(name))!;
  return join(resultRoot, date, readdirSync(join(resultRoot, date))[0]!);
}

/** summary.csv as rows keyed by column, cells as written. */
function csvRows(path: string): Record<string, string>[] {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const columns = header!.split(",");
  return lines.map((line) => {
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((cell) => cell.replace(/,$/, "").replace(/^"|"$/g, "").replaceAll('""', '"'));
    return Object.fromEntries(columns.map((column, i) => [column, cells[i]!]));
  });
}

/** Each cell's text is the CSV's rendering of summary.json's value, and that value to within the last digit. */
function expectCellsMatch(cells: FieldCell[], summaryOf: (cell: FieldCell) => Record<string, unknown>): void {
  expect(cells.length).toBeGreaterThan(20);
  for (const cell of cells) {
    const summary = summaryOf(cell);
    const value = summary[cell.field];
    const expected = typeof value === "number" || typeof value === "string" ? formatCell(cell.field, value) : "";
    expect({ field: cell.field, point: cell.point, text: cell.text }).toEqual({ field: cell.field, point: cell.point, text: expected === "" ? "—" : expected });
    if (typeof value === "number") expect(Math.abs(Number(cell.text) - value)).toBeLessThanOrEqual(0.0005 + 1e-9);
  }
}

/** No script, style, image, font or frame from anywhere: only the file itself. */
function expectNoRemoteResources(html: string): void {
  expect(html).not.toMatch(/\b(src|href|action|poster|srcset)\s*=\s*["']?\s*(https?:)?\/\//i);
  expect(html).not.toMatch(/url\(\s*["']?\s*(https?:)?\/\//i);
  expect(html).not.toMatch(/@import/i);
  expect(html).not.toMatch(/<link\b[^>]*rel=["']?stylesheet/i);
  expect(html).not.toMatch(/<script\b[^>]*\bsrc=/i);
}

// .ci/run installs chromium; a user's machine without it skips these (loudly), CI never does.
const skipBrowser = !hasChromium && process.env.CI !== "true";
if (skipBrowser) console.warn(`report-html.test.ts: SKIPPING the browser tests: ${CHROMIUM} is missing (apt-get install chromium, as .ci/run does)`);

describe.skipIf(skipBrowser)("report.html", () => {
  let browser: Browser;
  let work: string;
  let runA: string;
  let runB: string;
  let mock: MockHandle;

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    browser = await launchBrowser();
    work = tempDir("llmbench-report-");
    mock = await startMock(["--ttft-ms", "15", "--itl-ms", "3"]);
  });
  afterAll(async () => {
    await browser?.close();
    await mock?.stop();
  });

  test("a sweep writes report.html: every chart drawn, no error, nothing fetched, its tables the CSV's numbers", async () => {
    const dirA = ensure(join(work, "a"));
    const result = await runCli(["sweep", writeSweepConfig(dirA, 16), "--no-progress"], { timeoutMs: 90_000 });
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    runA = runFolder(join(dirA, "result"));
    const path = join(runA, "report.html");
    expect(existsSync(path)).toBe(true);
    const html = readFileSync(path, "utf8");
    expectNoRemoteResources(html);

    const { page, errors, blocked } = await openReport(browser, path);
    const charts = await chartStates(page);
    // The sweep's curves (throughput, each latency against load and against throughput); per point a
    // timeline, TTFT over time, 4 histograms, the gauges. (A summary with more latencies has more curves.)
    const ids = charts.map((chart) => chart.id);
    const expected = ["sweep-throughput", ...["ttft", "tpot", "itl", "e2e"].flatMap((m) => [`sweep-${m}`, `sweep-${m}-throughput`])];
    for (const p of ["p0", "p1", "p2"]) expected.push(`${p}-timeline`, `${p}-timeline-ttft`, `${p}-hist-ttft`, `${p}-hist-tpot`, `${p}-hist-itl`, `${p}-hist-e2e`, `${p}-gauges`);
    expect(ids).toEqual(expect.arrayContaining(expected));
    expect(new Set(ids).size).toBe(ids.length);
    for (const chart of charts) expect({ id: chart.id, rendered: chart.rendered, painted: chart.painted }).toEqual({ id: chart.id, rendered: true, painted: true });
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);

    const sweep = json(join(runA, "summary.json"));
    const csv = csvRows(join(runA, "summary.csv"));
    const pointSummary = (key: string | null) => {
      const entry = sweep.points.find((p: { point: string }) => p.point === key);
      return json(join(runA, entry.folder, "summary.json"));
    };
    const cells = await fieldCells(page);
    expectCellsMatch(cells, (cell) => (cell.source === "steady" ? pointSummary(cell.point).steady : pointSummary(cell.point)));
    // And the sweep's own files: its summary.json rows and its CSV cells, digit for digit.
    for (const cell of cells.filter((c) => c.source === null)) {
      const index = sweep.points.findIndex((p: { point: string }) => p.point === cell.point);
      const row = csv[index]!;
      if (cell.field in row) expect({ field: cell.field, text: cell.text }).toEqual({ field: cell.field, text: row[cell.field] === "" ? "—" : row[cell.field]! });
    }
    // The run's identity, with the server's command.
    const identity = await page.locator("#identity").innerText();
    expect(identity).toContain("sim-7b");
    expect(identity).toContain("mock --port");
    await screenshot(page, "report-sweep.png");
    await page.context().close();
  }, 150_000);

  test("llmbench report regenerates a run's report; several runs make one comparison page", async () => {
    const dirB = ensure(join(work, "b"));
    const result = await runCli(["sweep", writeSweepConfig(dirB, 16), "--no-progress"], { timeoutMs: 90_000 });
    expect(result.exitCode).toBe(0);
    runB = runFolder(join(dirB, "result"));

    const own = join(runA, "report.html");
    const before = readFileSync(own, "utf8");
    writeFileSync(own, "stale");
    const again = await runCli(["report", runA]);
    expect(again.exitCode).toBe(0);
    expect(readFileSync(own, "utf8")).toBe(before);

    const output = join(work, "comparison.html");
    const compare = await runCli(["report", runA, runB, "-o", output]);
    if (compare.exitCode !== 0) console.error(compare.stdout, compare.stderr);
    expect(compare.exitCode).toBe(0);
    const html = readFileSync(output, "utf8");
    expectNoRemoteResources(html);
    const { page, errors, blocked } = await openReport(browser, output);
    const charts = await chartStates(page);
    expect(charts.map((chart) => chart.id)).toEqual(
      expect.arrayContaining(["cmp-o_tps", "cmp-qps", ...["ttft", "tpot", "itl", "e2e"].flatMap((m) => [`cmp-${m}`, `cmp-${m}-throughput`])]),
    );
    for (const chart of charts) expect({ id: chart.id, painted: chart.painted }).toEqual({ id: chart.id, painted: true });
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    const runs = [runA, runB].map((dir) => json(join(dir, "summary.json")));
    const cells = await fieldCells(page);
    expect(new Set(cells.map((c) => c.run))).toEqual(new Set(["0", "1"]));
    expectCellsMatch(cells, (cell) => {
      const dir = [runA, runB][Number(cell.run)]!;
      const entry = runs[Number(cell.run)].points.find((p: { point: string }) => p.point === cell.point);
      return json(join(dir, entry.folder, "summary.json"));
    });
    // Ratios: run #2's output tokens/s over run #1's at 4 clients.
    const ratio = await page.locator("tr", { has: page.locator('td[data-field="o_tps"][data-point="clients=4"][data-run="1"]') }).locator("td").last().innerText();
    const o = (dir: string, run: { points: { point: string; folder: string }[] }) => json(join(dir, run.points.find((p) => p.point === "clients=4")!.folder, "summary.json")).o_tps;
    expect(ratio).toBe(`${(o(runB, runs[1]) / o(runA, runs[0])).toFixed(2)}×`);
    await screenshot(page, "report-comparison.png");
    await page.context().close();
  }, 150_000);

  test("runs whose workloads differ are refused, naming the fields, unless --allow-different", async () => {
    const changed = join(work, "changed-run");
    cpSync(runB, changed, { recursive: true });
    const configPath = join(changed, "config.resolved.json");
    const config = json(configPath);
    config.sweep.numRequests = 64;
    config.dataset.outputLen = 128;
    config.sweep.points[1].rampUpS = 9;
    writeFileSync(configPath, JSON.stringify(config));

    const refused = await runCli(["report", runA, changed, "-o", join(work, "refused.html")]);
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain("num_requests: #1");
    expect(refused.stderr).toContain("output_len: #1");
    expect(refused.stderr).toContain("at clients=4: ramp_up_s");
    expect(refused.stderr).toContain("--allow-different");
    expect(existsSync(join(work, "refused.html"))).toBe(false);

    const allowed = await runCli(["report", runA, changed, "-o", join(work, "allowed.html"), "--allow-different"]);
    expect(allowed.exitCode).toBe(0);
    const html = readFileSync(join(work, "allowed.html"), "utf8");
    expect(html).toContain("num_requests");

    const notARun = await runCli(["report", work]);
    expect(notARun.exitCode).toBe(2);
    expect(notARun.stderr).toContain("no summary.json");
  }, 60_000);

  test("llmbench run writes report.html, also when interrupted with what was measured", async () => {
    const dir = join(work, "run-rate");
    const child = Bun.spawn(
      llmbenchArgv("run", "--backend", "vllm", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET,
        "--request-rate", "20", "--num-requests", "100000", "--output-len", "200", "--result-dir", dir, "--no-progress"),
      { env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" },
    );
    const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
    const records = join(dir, "requests.jsonl");
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (!existsSync(records) || readFileSync(records, "utf8").split("\n").length < 30)) await Bun.sleep(50);
    child.kill("SIGINT");
    expect(await child.exited).toBe(130);
    await output;
    const summary = json(join(dir, "summary.json"));
    expect(summary.interrupted).toBe(true);
    expect(summary.completed).toBeGreaterThan(20);

    const path = join(dir, "report.html");
    const { page, errors, blocked } = await openReport(browser, path);
    const charts = await chartStates(page);
    expect(charts.length).toBeGreaterThanOrEqual(6);
    for (const chart of charts) expect({ id: chart.id, painted: chart.painted }).toEqual({ id: chart.id, painted: true });
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    expectCellsMatch(await fieldCells(page), (cell) => (cell.source === "steady" ? summary.steady : summary));
    expect(await page.locator("#summary").innerText()).toContain("cut short");
    // The requests in flight at Ctrl-C failed, and the page counts them by reason as summary.json does.
    expect(summary.failed).toBeGreaterThan(0);
    const failures = (await page.evaluate(`[...document.querySelectorAll("td[data-failure]")].map((td) => [td.dataset.failure, Number(td.textContent)])`)) as [string, number][];
    expect(Object.fromEntries(failures)).toEqual(summary.failures);
    await screenshot(page, "report-run.png");
    await page.context().close();
  }, 90_000);

  test("a capacity search's report shows the answer and every probed point with pass or fail, as search.json has them", async () => {
    const dir = ensure(join(work, "search"));
    const result = await runCli(
      ["sweep", writeSearchConfig(dir), "--no-progress", "--find-max", "clients", "--slo", "p99_ttft<=5000,p99_tpot<=75", "--search-resolution", "2"],
      { timeoutMs: 120_000 },
    );
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    const run = runFolder(join(dir, "result"));
    const search = json(join(run, "search.json")) as { best: number | null; points: Array<{ value: number; pass: boolean; failed: string[]; phase: string }> };
    expect(search.points.some((p) => p.pass)).toBe(true);
    expect(search.points.some((p) => !p.pass)).toBe(true);

    const { page, errors, blocked } = await openReport(browser, join(run, "report.html"));
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    expect(await page.locator("nav").innerText()).toContain("Search");
    expect(await page.locator("#search-best").innerText()).toContain(`${search.best} clients is the most that met every SLO (p99_ttft<=5000,p99_tpot<=75)`);
    const rows = (await page.evaluate(
      `[...document.querySelectorAll("#search tr[data-probe]")].map((tr) => [Number(tr.dataset.value), tr.dataset.pass === "true", tr.cells[2].textContent, tr.cells[4].textContent, tr.cells[5].textContent])`,
    )) as [number, boolean, string, string, string][];
    expect(rows).toEqual(search.points.map((p) => [p.value, p.pass, p.phase, p.pass ? "pass" : "fail", p.failed.join("; ")]));
    // a chart per latency of the SLO, each drawn
    const charts = (await chartStates(page)).filter((c) => c.id.startsWith("search-"));
    expect(charts).toEqual([
      { id: "search-p99_ttft", rendered: true, painted: true },
      { id: "search-p99_tpot", rendered: true, painted: true },
    ]);
    await screenshot(page, "report-search.png");
    await page.context().close();
  }, 150_000);
});

/** A batching simulator whose decode step grows 10 ms a client, so that TPOT passes 75 ms between 6 and 7 clients. */
function writeSearchConfig(dir: string): string {
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
        command: (config, server) => [...server.llmbench, "mock", "--port", String(server.port), "--step-ms", "10", "--step-ms-per-seq", "10", "--prefill-tps", "100000000"],
        readyTimeoutS: 30,
        stopGraceS: 3,
      },
    },
  },
  dataset: { path: ${JSON.stringify(DATASET)}, outputLen: 8 },
  sweep: { rampUpS: 0, stopTimeS: 0.2, drainTimeoutS: 30 },
});
`,
  );
  return path;
}

function ensure(dir: string): string {
  mkdirSync(dir, { recursive: true });
  return dir;
}
