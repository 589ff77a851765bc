/**
 * The live panel on a real terminal (a tmux pane of its own server socket), and the plain lines
 * when the output is not a terminal; plus the panel's pure parts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { fitWidth, formatDuration, formatPanel, progressBar, RollingWindow, type PanelState } from "../src/report/progress.ts";
import { formatFailureReasons, topFailures } from "../src/report/sweep-console.ts";
import { DATASET, llmbenchArgv, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const SOCKET = `llmbench-panel-${process.pid}`;

async function tmux(...args: string[]): Promise<string> {
  const child = Bun.spawn(["tmux", "-L", SOCKET, ...args], { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`tmux ${args.join(" ")}: ${err}`);
  return out;
}

const shellQuote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

// .ci/run installs tmux; a user's machine without it skips the terminal tests (loudly), CI never does.
const skipTmux = Bun.which("tmux") === null && process.env.CI !== "true";
if (skipTmux) console.warn("live-panel.test.ts: SKIPPING the terminal tests: tmux is missing (apt-get install tmux, as .ci/run does)");

describe.skipIf(skipTmux)("the live panel", () => {
  let mock: MockHandle;
  beforeAll(async () => {
    mock = await startMock(["--ttft-ms", "25", "--itl-ms", "5"]);
  });
  afterAll(async () => {
    await tmux("kill-server").catch(() => {});
    await mock?.stop();
  });

  test("on a terminal: a multi-line panel with the bar, ETA and rolling TTFT mid-run, cleared at the end", async () => {
    const dir = tempDir();
    const done = join(dir, "done");
    const argv = llmbenchArgv("run", "--backend", "vllm", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET,
      "--num-clients", "8", "--stop-time", "8", "--output-len", "48", "--result-dir", join(dir, "result"));
    await tmux("new-session", "-d", "-s", "panel", "-x", "150", "-y", "40", `${argv.map(shellQuote).join(" ")}; touch ${shellQuote(done)}; sleep 60`);

    let mid = "";
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      await Bun.sleep(250);
      mid = await tmux("capture-pane", "-p", "-t", "panel");
      if (/TTFT p50 \d/.test(mid) && /ETA \d/.test(mid)) break;
    }
    const lines = mid.split("\n");
    const barLine = lines.find((line) => line.includes("█"));
    expect(barLine).toMatch(/^8 clients +█+░* +\d+ % +elapsed \d+\.\d s +ETA \d+\.\d s$/);
    expect(mid).toMatch(/requests +sent \d+ +done \d+ +in flight \d+ +failed 0/);
    expect(mid).toMatch(/rolling +TTFT p50 \d+\.\d p99 \d+\.\d ms +TPOT p50 \d+\.\d\d p99 \d+\.\d\d ms +ITL p50 \d+\.\d\d p99 \d+\.\d\d ms/);
    expect(mid).toMatch(/output +\d+\.\d tok\/s/);
    // The rolling TTFT is what the simulator was set to (25 ms), give or take a loaded machine.
    const ttft = Number(/TTFT p50 (\d+\.\d)/.exec(mid)![1]);
    expect(ttft).toBeGreaterThanOrEqual(25);
    expect(ttft).toBeLessThan(250);

    while (!(await Bun.file(done).exists()) && Date.now() < deadline + 30_000) await Bun.sleep(200);
    const end = await tmux("capture-pane", "-p", "-t", "panel");
    expect(end).toContain("llmbench run — vllm");
    expect(end).not.toContain("rolling");
    expect(end).not.toContain("█");
  }, 90_000);

  test("not a terminal: plain lines, no panel, no cursor movement", async () => {
    const dir = tempDir();
    const result = await runCli(["run", "--backend", "vllm", "--base-url", mock.url, "--model", "mock-model", "--dataset-path", DATASET,
      "--num-clients", "2", "--stop-time", "10.5", "--output-len", "16", "--result-dir", join(dir, "result")], { timeoutMs: 60_000 });
    expect(result.exitCode).toBe(0);
    const progress = result.stderr.split("\n").filter((line) => line.startsWith("2 clients"));
    expect(progress.length).toBe(1);
    expect(progress[0]).toMatch(/^2 clients {2}10\.\d s {2}sent \d+ {2}done \d+ {2}in flight \d+ {2}\d+\.\d req\/s {2}TTFT p50 \d+\.\d ms$/);
    expect(result.stderr).not.toContain("\x1b[");
    expect(result.stderr).not.toContain("█");
  }, 60_000);
});

describe("the panel's parts", () => {
  test("a rolling window keeps the last values; p50 and p99 as numpy's linear percentiles", () => {
    const window = new RollingWindow(4);
    expect(window.p50p99()).toBeNull();
    for (const v of [100, 1, 2, 3, 4]) window.push(v); // 100 falls out
    expect(window.size).toBe(4);
    const [p50, p99] = window.p50p99()!;
    expect(p50).toBe(2.5);
    expect(p99).toBeCloseTo(3.97, 12);
  });

  test("lines fit the terminal: cut at its width, colour codes kept and not counted", () => {
    expect(fitWidth("abcdef", 4)).toBe("abcd\x1b[0m");
    expect(fitWidth("ab", 4)).toBe("ab");
    expect(fitWidth("\x1b[31mabc\x1b[39mdef", 4)).toBe("\x1b[31mabc\x1b[39md\x1b[0m");
  });

  test("bar, durations", () => {
    expect(progressBar(0.5, 10)).toBe("█████░░░░░");
    expect(progressBar(1.7, 4)).toBe("████");
    expect(formatDuration(12.34)).toBe("12.3 s");
    expect(formatDuration(125)).toBe("2:05");
    expect(formatDuration(3725)).toBe("1:02:05");
  });

  test("the panel's lines", () => {
    const state: PanelState = {
      title: "[2/4] 16 clients",
      elapsedS: 7.42,
      fraction: 0.625,
      etaS: 4.5,
      sent: 130,
      budget: 200,
      completed: 110,
      failed: 4,
      ttft: [25.14, 40.2],
      tpot: [10.9, 11.94],
      itl: [10.61, 28.186],
      window: 110,
      tokensPerS: 761.34,
      requestsPerS: 3.1,
      recentFailures: [["HTTP 500: overloaded", 3], ["timeout after 600 s (--request-timeout)", 1]],
    };
    const lines = formatPanel(state).map((line) => line.replace(/\x1b\[[0-9;]*m/g, ""));
    expect(lines).toEqual([
      `[2/4] 16 clients  ${"█".repeat(19)}${"░".repeat(11)}  62 %  elapsed 7.4 s  ETA 4.5 s`,
      "  requests  sent 130/200  done 110  in flight 16  failed 4",
      "  rolling   TTFT p50 25.1 p99 40.2 ms   TPOT p50 10.90 p99 11.94 ms   ITL p50 10.61 p99 28.19 ms  (last 110 requests)",
      "  output    761.3 tok/s   3.10 req/s  (last 10 s)",
      "  failures  ×3 HTTP 500: overloaded; ×1 timeout after 600 s (--request-timeout)",
    ]);
  });

  test("past the stop time the panel says it is draining instead of an ETA", () => {
    const state: PanelState = {
      title: "4 clients", elapsedS: 8, fraction: 1, etaS: 0, sent: 8, budget: null, completed: 7, failed: 0,
      ttft: null, tpot: null, itl: null, window: 0, tokensPerS: 0, requestsPerS: 0, recentFailures: [],
    };
    expect(formatPanel(state)[0]!.replace(/\x1b\[[0-9;]*m/g, "")).toBe(`4 clients  ${"█".repeat(30)} 100 %  elapsed 8.0 s  draining 1 in flight`);
    expect(formatPanel(state)[2]).toContain("TTFT p50 — p99 — ms");
  });

  test("the final summary's failures: the most frequent reasons first, the rest counted", () => {
    const failures = { "stream ended before the answer was complete": 2, "HTTP 500": 7, "HTTP 429": 2, "cancelled at stop": 1 };
    expect(topFailures(failures)).toEqual({ shown: [["HTTP 500", 7], ["HTTP 429", 2], ["stream ended before the answer was complete", 2]], more: 1 });
    expect(formatFailureReasons(failures, "  ", 2).map((line) => line.replace(/\x1b\[[0-9;]*m/g, ""))).toEqual([
      "  failed × 7: HTTP 500",
      "  failed × 2: HTTP 429",
      "  … and 2 other reasons (summary.json has them all)",
    ]);
  });
});
