/**
 * `llmbench sweep` end to end: real server processes (the simulator, or shell stand-ins that fail
 * the ways servers fail) launched from configs written into temp folders, on 127.0.0.1.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { RunHistory } from "../src/archive/history.ts";
import { SEED_COLUMNS } from "../src/report/seed-columns.ts";
import { isGroupAlive, isProcessAlive } from "../src/server/process-group.ts";
import { VERSION } from "../src/version.ts";
import { DATASET, llmbenchArgv, readJsonl, runCli, tempDir, type CliResult } from "./helpers/cli.ts";

interface TestConfig {
  /** The body of the launch command function: `(config, server) => [...]`. */
  command: string;
  clients?: number[];
  rates?: number[];
  turns?: number;
  systemPromptPath?: string;
  numRequests: number;
  outputLen?: number;
  readyTimeoutS?: number;
  stopGraceS?: number;
}

/**
 * A config in `dir` whose server listens on a free port; `command` may use `server.llmbench`,
 * `server.port` and `DIR`. It imports values and a type from "llmbench", as users' configs do.
 */
function writeConfig(dir: string, options: TestConfig): string {
  const path = join(dir, "bench.config.ts");
  writeFileSync(
    path,
    `import { defineConfig, freePort } from "llmbench";
import type { SweepConfig } from "llmbench";
const port = freePort();
const DIR = ${JSON.stringify(dir)};
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim-7b", sizeB: 7, tp: 1, mode: "fp16", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      launch: { command: (config, server) => ${options.command}, readyTimeoutS: ${options.readyTimeoutS ?? 30}, stopGraceS: ${options.stopGraceS ?? 3} },
    },
  },
  dataset: {
    path: ${JSON.stringify(DATASET)},
    outputLen: ${options.outputLen ?? 16},
    ${options.systemPromptPath ? `systemPrompt: { enabled: true, path: ${JSON.stringify(options.systemPromptPath)} },` : ""}
  },
  sweep: {
    ${options.rates ? `rates: ${JSON.stringify(options.rates)},` : `clients: ${JSON.stringify(options.clients)}, rampUpS: 0,`}
    numRequests: ${options.numRequests},
    drainTimeoutS: 5,
    turns: ${options.turns ?? 1},
  } satisfies SweepConfig,
});
`,
  );
  return path;
}

/** The simulator with fixed timing, started through `sh` so that the server has a child of its own (a grandchild of llmbench). */
function simulatorWithChild(itlMs: number): string {
  return `["sh", "-c", "sleep 300 & echo $! > " + DIR + "/grandchild.pid; exec \\"$@\\"", "sh", ...server.llmbench, "mock", "--port", String(server.port), "--ttft-ms", "5", "--itl-ms", "${itlMs}"]`;
}

function onlyRunFolder(resultRoot: string): string {
  const dates = readdirSync(resultRoot).filter((name) => /^\d{4}-\d{2}-\d{2}$/.test(name));
  expect(dates.length).toBe(1);
  const runs = readdirSync(join(resultRoot, dates[0]!));
  expect(runs.length).toBe(1);
  return join(resultRoot, dates[0]!, runs[0]!);
}

function csvRows(path: string): Array<Record<string, string>> {
  const [header, ...lines] = readFileSync(path, "utf8").trim().split("\n");
  const columns = header!.split(",");
  return lines.map((line) => {
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((cell) => cell.replace(/,$/, "").replace(/^"|"$/g, "").replaceAll('""', '"'));
    return Object.fromEntries(columns.map((column, i) => [column, cells[i]!]));
  });
}

const json = (path: string) => JSON.parse(readFileSync(path, "utf8"));

/** The run folder under `<dir>/result` once the sweep has made it. */
function runFolderOf(dir: string): string | null {
  const root = join(dir, "result");
  const date = existsSync(root) ? readdirSync(root).find((name) => /^\d{4}-\d{2}-\d{2}$/.test(name)) : undefined;
  const run = date ? readdirSync(join(root, date))[0] : undefined;
  return date && run ? join(root, date, run) : null;
}

/** Starts llmbench and, once `ready(dir)` is true, calls `then` (e.g. to send a signal); resolves with its result. */
async function runCliUntil(args: string[], ready: () => boolean, then: (child: Bun.Subprocess) => void): Promise<CliResult> {
  const child = Bun.spawn(llmbenchArgv(...args), { env: { ...process.env, NO_COLOR: "1" }, stdout: "pipe", stderr: "pipe" });
  const output = Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text()]);
  const deadline = Date.now() + 45_000;
  while (!ready() && Date.now() < deadline && child.exitCode === null) await Bun.sleep(20);
  if (child.exitCode === null) then(child);
  const exitCode = await child.exited;
  const [stdout, stderr] = await output;
  return { exitCode, stdout, stderr };
}

describe("sweeps of the other workloads", () => {
  test("request-rate points with the system prompt: one CSV row per rate, input tokens raised by the prompt", async () => {
    const dir = tempDir();
    const systemPrompt = join(dir, "system.txt");
    writeFileSync(systemPrompt, "You are a careful assistant. Answer in full sentences and cite your sources.");
    const config = writeConfig(dir, { command: simulatorWithChild(1), rates: [20, 40], numRequests: 20, systemPromptPath: systemPrompt });
    const result = await runCli(["sweep", config, "--no-progress"]);
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    const run = onlyRunFolder(join(dir, "result"));
    const rows = csvRows(join(run, "summary.csv"));
    expect(rows.map((row) => [row.num_clients, row.request_rate, row.completed])).toEqual([["", "20.000", "20"], ["", "40.000", "20"]]);
    // 20 Poisson arrivals at 40/s take about half a second: qps well above a closed loop of one
    expect(Number(rows[1]!.qps)).toBeGreaterThan(Number(rows[0]!.qps));
    const summary = json(join(run, "02_rate-40", "summary.json"));
    expect(summary.system_prompt_tokens).toBeGreaterThan(10);
    expect(summary.avg_inlen).toBeGreaterThan(summary.system_prompt_tokens);
  }, 60_000);

  test("multi-turn conversations in a client sweep: statistics per turn in each point", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { command: simulatorWithChild(1), clients: [2], numRequests: 12, turns: 3, outputLen: 4 });
    const result = await runCli(["sweep", config, "--no-progress"]);
    expect(result.exitCode).toBe(0);
    const run = onlyRunFolder(join(dir, "result"));
    const summary = json(join(run, "01_clients-2", "summary.json"));
    // 12 requests of 3-turn conversations shared by 2 users: how many conversations each user got
    // to start depends on the machine's pace, so the per-turn counts are checked against the records
    const records = await readJsonl<{ turn: number; conversation: string }>(join(run, "01_clients-2", "requests.jsonl"));
    expect(records.length).toBe(12);
    const perTurn = [0, 1, 2].map((turn) => [turn, records.filter((r) => r.turn === turn).length]);
    expect(summary.per_turn.map((t: { turn: number; requests: number }) => [t.turn, t.requests])).toEqual(perTurn);
    expect(perTurn.map(([, n]) => n)).toEqual([...perTurn.map(([, n]) => n)].sort((x, y) => y - x)); // no turn without the one before
    expect(perTurn[2]![1]).toBeGreaterThan(0);
    expect(summary.per_turn[2].avg_inlen).toBeGreaterThan(summary.per_turn[0].avg_inlen);
  }, 60_000);
});

describe("a 3-point sweep against the simulator", () => {
  test("archives every point, writes the seed's CSV rows and the history, and leaves no process behind", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { command: simulatorWithChild(1), clients: [1, 2, 4], numRequests: 12 });
    const result = await runCli(["sweep", config, "--no-progress"]);
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);

    const resultRoot = join(dir, "result");
    const run = onlyRunFolder(resultRoot);
    expect(run).toMatch(/result\/\d{4}-\d{2}-\d{2}\/\d{6}_vllm_sim-7b$/);
    expect(readlinkSync(join(resultRoot, "latest"))).toBe(run.slice(resultRoot.length + 1));
    expect(readdirSync(run).sort()).toEqual([
      "01_clients-1", "02_clients-2", "03_clients-4", "config.resolved.json", "report.html", "run.json", "server.log", "summary.csv", "summary.json",
    ]);
    for (const [folder, clients] of [["01_clients-1", 1], ["02_clients-2", 2], ["03_clients-4", 4]] as const) {
      const records = await readJsonl<{ status: string; user: number; out_tokens: number }>(join(run, folder, "requests.jsonl"));
      expect(records.length).toBe(12);
      expect(records.every((r) => r.status === "ok" && r.out_tokens === 16)).toBe(true);
      expect(new Set(records.map((r) => r.user)).size).toBe(clients);
      expect(json(join(run, folder, "summary.json")).completed).toBe(12);
    }

    const rows = csvRows(join(run, "summary.csv"));
    expect(Object.keys(rows[0]!).slice(0, 43)).toEqual([...SEED_COLUMNS]);
    expect(rows.map((row) => [row["model_size(B)"], row.tp, row.num_clients, row.mode, row.completed, row.success_rate, row.point_status])).toEqual([
      ["7", "1", "1", "fp16", "12", "1.000", "done"],
      ["7", "1", "2", "fp16", "12", "1.000", "done"],
      ["7", "1", "4", "fp16", "12", "1.000", "done"],
    ]);
    for (const row of rows) expect(Number(row.mean_ttft)).toBeGreaterThanOrEqual(5);

    const info = json(join(run, "run.json"));
    expect(info).toMatchObject({ llmbench: VERSION, status: "completed", exit_code: 0, reason: null, points: { planned: 3, done: 3, cut_short: 0, not_run: 0 } });
    expect(info.server.origin).toBe("launch");
    expect(typeof info.host.name).toBe("string");
    expect(Date.parse(info.ended_at)).toBeGreaterThanOrEqual(Date.parse(info.started_at));
    expect(readFileSync(join(run, "server.log"), "utf8")).toContain("llmbench mock listening on http://127.0.0.1:");
    const resolved = json(join(run, "config.resolved.json"));
    expect(resolved.sweep.points.map((p: { clients: number }) => p.clients)).toEqual([1, 2, 4]);
    expect(resolved.launch.command).toContain("mock");

    // Nothing of the run is left: the server, and the process the server started.
    expect(isGroupAlive(info.server.pid)).toBe(false);
    expect(isProcessAlive(Number(readFileSync(join(dir, "grandchild.pid"), "utf8")))).toBe(false);

    const history = RunHistory.open(resultRoot, { create: false })!;
    const [listed] = history.listRuns(10);
    expect(listed).toMatchObject({ name: run.slice(resultRoot.length + 1), backend: "vllm", model: "sim-7b", tp: 1, status: "completed", points_planned: 3, points_run: 3 });
    const points = history.pointsOf(listed!.id);
    history.close();
    expect(points.map((p) => [p.point, p.num_clients, p.status, p.completed])).toEqual([
      ["clients=1", 1, "done", 12],
      ["clients=2", 2, "done", 12],
      ["clients=4", 4, "done", 12],
    ]);
    expect(listed!.best_o_tps).toBe(Math.max(...points.map((p) => p.o_tps!)));

    // A second, smaller sweep into the same archive, then `history` and `compare`.
    const second = await runCli(["sweep", config, "--clients", "2,4", "--num-requests", "8", "--no-progress"]);
    expect(second.exitCode).toBe(0);
    const listing = await runCli(["history", "--output-dir", resultRoot]);
    expect(listing.exitCode).toBe(0);
    const lines = listing.stdout.trim().split("\n");
    expect(lines.length).toBe(3);
    expect(lines[1]).toMatch(/^\s+2\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+vllm\s+sim-7b\s+1\s+2\/2\s+\d+\.\d\s+completed\s+\S+_vllm_sim-7b/);
    expect(lines[2]).toMatch(/^\s+1\s.*\s3\/3\s/);
    const compared = await runCli(["compare", "1", "latest", "--output-dir", resultRoot]);
    expect(compared.exitCode).toBe(0);
    expect(compared.stdout).toMatch(/clients=1\s+not run in B/);
    expect(compared.stdout).toMatch(/clients=2\s+qps\s+\d+\.\d\d\s+\d+\.\d\d\s+[+-]\d+\.\d%/);
    expect(compared.stdout).toMatch(/clients=4\s+qps/);
    expect(compared.stdout).toContain("on average over the points both ran: out tok/s");
  }, 60_000);

  test("the shipped bench.config.ts runs as is: the binary launches itself as the simulator, on a free port, with the sample dataset", async () => {
    const dir = tempDir();
    const result = await runCli(["sweep", "bench.config.ts", "--clients", "2", "--num-requests", "2", "--stop-time", "1", "--output-dir", dir, "--no-progress"]);
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
    const run = onlyRunFolder(dir);
    expect(run).toMatch(/_vllm_mock-7b$/);
    const rows = csvRows(join(run, "summary.csv"));
    expect(rows.map((row) => [row.num_clients, row.completed])).toEqual([["2", "2"]]);
    expect(json(join(run, "config.resolved.json")).dataset.path).toMatch(/datasets\/sharegpt_sample\.json$/);
    expect(isGroupAlive(json(join(run, "run.json")).server.pid)).toBe(false);
  }, 60_000);
});

describe("servers that fail", () => {
  test("a server that exits at once: a clear error with its log tail, every point not run, exit 1", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, {
      command: `["sh", "-c", "echo loading weights; echo 'RuntimeError: CUDA out of memory' >&2; exit 3"]`,
      clients: [1, 2],
      numRequests: 4,
    });
    const result = await runCli(["sweep", config]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("llmbench: the server did not start: the server exited with code 3 before it was ready");
    expect(result.stderr).toContain("  | loading weights\n  | RuntimeError: CUDA out of memory");
    const run = onlyRunFolder(join(dir, "result"));
    expect(readFileSync(join(run, "server.log"), "utf8")).toContain("RuntimeError: CUDA out of memory");
    const summary = json(join(run, "summary.json"));
    expect(summary.points.map((p: { status: string; reason: string }) => [p.status, p.reason])).toEqual([
      ["not run", "the server did not start"],
      ["not run", "the server did not start"],
    ]);
    expect(csvRows(join(run, "summary.csv"))).toEqual([]);
    expect(json(join(run, "run.json"))).toMatchObject({ status: "failed", exit_code: 1 });
  }, 30_000);

  test("a server that never becomes ready: a timeout error, and the process is stopped", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { command: `["sleep", "300"]`, clients: [1], numRequests: 4, readyTimeoutS: 1 });
    const result = await runCli(["sweep", config]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("the server was not ready after 1 s (servers.vllm.launch.readyTimeoutS gives it longer); last health check: connection refused");
    const info = json(join(onlyRunFolder(join(dir, "result")), "run.json"));
    expect(info.status).toBe("failed");
    expect(isGroupAlive(info.server.pid)).toBe(false);
  }, 30_000);

  test("a server that dies mid-sweep: the points measured are kept, the rest are recorded as not run", async () => {
    const dir = tempDir();
    // The shell is the server: it runs the simulator, kills it when the test says so, and exits 7.
    const config = writeConfig(dir, {
      command: `["sh", "-c", "\\"$@\\" & sim=$!; while [ ! -e " + DIR + "/die ]; do sleep 0.05; done; kill -9 $sim; exit 7", "sh", ...server.llmbench, "mock", "--port", String(server.port), "--ttft-ms", "5", "--itl-ms", "10"]`,
      clients: [1, 2, 4],
      numRequests: 12,
    });
    const result = await runCliUntil(
      ["sweep", config, "--no-progress"],
      () => existsSync(join(runFolderOf(dir) ?? dir, "01_clients-1/summary.json")),
      () => writeFileSync(join(dir, "die"), ""),
    );
    const run = runFolderOf(dir)!;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("llmbench: the server exited with code 7");
    const points = json(join(run, "summary.json")).points as Array<{ status: string; reason: string | null; completed?: number }>;
    expect(points[0]).toMatchObject({ status: "done", reason: null, completed: 12 });
    expect(["cut short", "not run"]).toContain(points[1]!.status);
    expect(points[1]!.reason).toBe("the server exited with code 7");
    expect(points[2]).toMatchObject({ status: "not run", reason: "the server exited with code 7" });
    const rows = csvRows(join(run, "summary.csv"));
    expect(rows[0]).toMatchObject({ num_clients: "1", completed: "12", point_status: "done" });
    expect((await readJsonl(join(run, "01_clients-1/requests.jsonl"))).length).toBe(12);
    const info = json(join(run, "run.json"));
    expect(info).toMatchObject({ status: "failed", exit_code: 1, reason: "the server exited with code 7" });
    expect(isGroupAlive(info.server.pid)).toBe(false);
  }, 60_000);
});

describe("Ctrl-C in the middle of a sweep", () => {
  test("keeps what was measured, stops the server and what it started, marks the rest not run, exits 130", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { command: simulatorWithChild(15), clients: [1, 2, 4], numRequests: 8 });
    const secondPoint = () => join(runFolderOf(dir) ?? dir, "02_clients-2/requests.jsonl");
    const result = await runCliUntil(
      ["sweep", config, "--no-progress"],
      () => existsSync(secondPoint()) && readFileSync(secondPoint(), "utf8").length > 0,
      (child) => child.kill("SIGINT"),
    );
    const run = runFolderOf(dir)!;
    if (result.exitCode !== 130) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(130);
    expect(result.stderr).toContain("interrupted (Ctrl-C): stopping the point and the server and keeping what was measured");
    const points = json(join(run, "summary.json")).points as Array<{ status: string; reason: string | null; completed?: number }>;
    expect(points.map((p) => [p.status, p.reason])).toEqual([
      ["done", null],
      ["cut short", "interrupted (Ctrl-C)"],
      ["not run", "interrupted (Ctrl-C)"],
    ]);
    const cutShort = await readJsonl<{ status: string; error: string | null }>(join(run, "02_clients-2/requests.jsonl"));
    expect(cutShort.length).toBeGreaterThanOrEqual(1);
    expect(cutShort.length).toBeLessThanOrEqual(8);
    // requests cut off by the interrupt are recorded with the reason
    expect(cutShort.filter((r) => r.status === "failed").every((r) => r.error === "interrupted (Ctrl-C)")).toBe(true);
    expect(csvRows(join(run, "summary.csv")).map((row) => row.point_status)).toEqual(["done", "cut short: interrupted (Ctrl-C)"]);
    const info = json(join(run, "run.json"));
    expect(info).toMatchObject({ status: "interrupted", exit_code: 130, reason: "interrupted (Ctrl-C)", points: { done: 1, cut_short: 1, not_run: 1 } });
    expect(readlinkSync(join(dir, "result/latest"))).toBe(run.slice(join(dir, "result").length + 1));
    expect(isGroupAlive(info.server.pid)).toBe(false);
    expect(isProcessAlive(Number(readFileSync(join(dir, "grandchild.pid"), "utf8")))).toBe(false);
    const history = RunHistory.open(join(dir, "result"), { create: false })!;
    expect(history.listRuns(1)[0]).toMatchObject({ status: "interrupted", exit_code: 130, points_run: 2 });
    history.close();
  }, 60_000);

  test("a second Ctrl-C kills a server that ignores SIGTERM at once, even while it is starting", async () => {
    const dir = tempDir();
    const config = writeConfig(dir, { command: `["sh", "-c", "trap '' TERM; sleep 300 & wait; wait"]`, clients: [1], numRequests: 1, stopGraceS: 60 });
    const serverPid = () => {
      const run = runFolderOf(dir);
      return run && existsSync(join(run, "run.json")) ? (json(join(run, "run.json")).server?.pid as number | undefined) : undefined;
    };
    const started = performance.now();
    const result = await runCliUntil(["sweep", config], () => serverPid() !== undefined, (child) => {
      child.kill("SIGINT");
      setTimeout(() => child.kill("SIGINT"), 300);
    });
    expect(result.exitCode).toBe(130);
    expect(performance.now() - started).toBeLessThan(20_000); // not the 60 s grace period
    const info = json(join(runFolderOf(dir)!, "run.json"));
    expect(info).toMatchObject({ status: "interrupted", exit_code: 130, reason: "interrupted (Ctrl-C); killed by a second SIGINT" });
    await Bun.sleep(100);
    expect(isGroupAlive(info.server.pid)).toBe(false);
  }, 30_000);
});
