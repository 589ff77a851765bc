import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import pc from "picocolors";
import { RunHistory } from "../archive/history.ts";
import { assertWritableDir, writeFileAtomic } from "../archive/result-files.ts";
import { createRunFolder, updateLatestLink, type RunFolder } from "../archive/run-folder.ts";
import { newRunInfo, writeRunInfo, type RunInfo } from "../archive/run-info.ts";
import { writeSweepSummary, type PointOutcome } from "../archive/sweep-summary.ts";
import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import { UsageError } from "../common/usage-error.ts";
import { describeSkipped } from "../dataset/skipped.ts";
import { describePoint, formatPointLine, formatSweepTable } from "../report/sweep-console.ts";
import { writeRunReportQuietly } from "../report/write-report.ts";
import { formatThresholds } from "../report/thresholds.ts";
import { executePoint, type PointResult, type PointSpec } from "../runner/point.ts";
import type { ResolvedSearch } from "../config/search-config.ts";
import { formatSearchResult } from "../report/search-console.ts";
import { runCapacitySearch } from "./search-runner.ts";
import { formatSlo } from "./slo.ts";
import { loadTarget, type Target } from "../runner/target.ts";
import { assertProgramExists } from "../server/launch.ts";
import { assertPortFree } from "../server/port-holder.ts";
import { killProcessGroup } from "../server/process-group.ts";
import { formatArgv, redactArgv } from "../server/redact.ts";
import { answersWithin } from "../server/readiness.ts";
import { bringUp, planServer, type ServerPlan } from "../server/server-plan.ts";
import { ServerStartError, type ServerLoss, type ServerSession } from "../server/server-session.ts";
import { StopReason } from "../common/stop-reason.ts";
import { resolvedConfigForArchive } from "./archived-config.ts";
import { pointFolderName, pointKey, pointLabelsFor, pointSpecFor, targetSpecFor, unsupportedSettings } from "./point-spec.ts";

export interface SweepOptions {
  progress: boolean;
  /** llmbench's own argv, for run.json. */
  command: string[];
}

const HEALTH_BETWEEN_POINTS_MS = 10_000;

/**
 * `llmbench sweep`: brings the server up, runs every point in order (each point's results are
 * written as it finishes), stops the server, archives the run. Ctrl-C, an error or a server that
 * dies stop the sweep: the points left are recorded as not run, with the reason, and what was
 * measured is kept. Returns the exit code: 0 when every point ran and completed requests, 1
 * otherwise, 130 on Ctrl-C (143 on SIGTERM).
 */
export async function runSweep(config: ResolvedBenchConfig, options: SweepOptions): Promise<number> {
  const unsupported = unsupportedSettings(config);
  if (unsupported.length > 0) throw new UsageError(`${config.configPath}:\n${unsupported.map((line) => `  - ${line}`).join("\n")}`);
  const plan = planServer(config);
  // Dataset and tokenizer problems are usage errors, found before any server starts.
  const target = await loadTarget({ ...targetSpecFor(config), baseUrl: plan.url });
  assertWritableDir(config.outputDir, "output.dir (--output-dir)");
  if (plan.kind === "launch") {
    assertProgramExists(plan.launch, `servers.${config.backend}.launch.command`);
    await assertPortFree(plan.url, `servers.${config.backend}.url`);
  }
  try {
    return await new Sweep(config, plan, target, options).run();
  } finally {
    target.backend.close?.(); // a gRPC channel left open would keep the process alive
  }
}

class Sweep {
  private readonly folder: RunFolder;
  private readonly info: RunInfo;
  /** The listed points, or (in a capacity search) the points probed so far. */
  private readonly outcomes: PointOutcome[];
  private readonly history: RunHistory | null;
  private readonly runId: number | null;
  private readonly interrupt = new AbortController();
  private readonly serverGone = new AbortController();
  /** Some point's threshold failed: the exit code is 3 when nothing else went wrong. */
  private thresholdsFailed = false;
  private interruptExitCode = 130;
  /** Exit code of a run that failed: 1, or 2 when a usage error (a bad setting) ended it. */
  private failureExitCode = 1;
  private session: ServerSession | null = null;
  /** The server this run launched, from the moment it exists (a second Ctrl-C must reach it even during startup). */
  private launchedPid: number | null = null;
  private loss: ServerLoss | null = null;

  constructor(
    private readonly config: ResolvedBenchConfig,
    private readonly plan: ServerPlan,
    private readonly target: Target,
    private readonly options: SweepOptions,
  ) {
    const started = new Date();
    this.folder = createRunFolder(config.outputDir, config.backend, config.model.tag, started);
    const points = config.sweep.points;
    this.outcomes = points.map((point, index) => ({
      index,
      point,
      key: pointKey(point),
      folder: pointFolderName(index, points.length, point),
      status: "pending",
      reason: null,
      row: null,
      summary: null,
    }));
    this.info = newRunInfo(config.configPath, options.command, started, points.length);
    writeFileAtomic(join(this.folder.dir, "config.resolved.json"), JSON.stringify(resolvedConfigForArchive(config), null, 2) + "\n");
    writeRunInfo(this.folder.dir, this.info);
    this.writeSummary();
    this.history = openHistory(config.outputDir);
    this.runId = this.historyStep((history) =>
      history.beginRun({
        name: this.folder.name,
        dir: this.folder.dir,
        started_at: this.info.started_at,
        backend: config.backend,
        model: config.model.tag,
        model_size: config.model.sizeB,
        tp: config.model.tp,
        mode: config.model.mode,
        dataset: config.dataset.path,
        points_planned: points.length,
        llmbench_version: this.info.llmbench,
        host: this.info.host.name,
        pid: this.info.pid,
        pid_start: this.info.pid_start,
      }),
    );
  }

  async run(): Promise<number> {
    const onSigint = () => this.onSignal("SIGINT");
    const onSigterm = () => this.onSignal("SIGTERM");
    process.on("SIGINT", onSigint);
    process.on("SIGTERM", onSigterm);
    const { config } = this;
    const points = config.sweep.points;
    console.log(
      pc.bold(`llmbench sweep — ${config.backend}, ${config.model.tag} (${modelDescription(config)}), ${points.length} point${points.length === 1 ? "" : "s"}: ${points.map(describePoint).join(", ")}`),
    );
    console.log(`  run folder  ${displayPath(this.folder.dir)}`);
    let failure: string | null = null;
    try {
      if (await this.startServer()) await (config.sweep.search ? this.runSearch(config.sweep.search) : this.runPoints());
    } catch (error) {
      failure = (error as Error)?.message ?? String(error);
      if (error instanceof UsageError) this.failureExitCode = 2; // what llmbench then exits with
      throw error;
    } finally {
      await this.stopServer();
      process.off("SIGINT", onSigint);
      process.off("SIGTERM", onSigterm);
      this.finish(failure);
    }
    return this.info.exit_code!;
  }

  /** Brings the server up; false (with the reason recorded) when it could not be. */
  private async startServer(): Promise<boolean> {
    const logPath = join(this.folder.dir, "server.log");
    const serverInfo: Record<string, unknown> = { origin: this.plan.kind, url: this.plan.url };
    this.info.server = serverInfo;
    if (this.plan.kind === "launch") {
      serverInfo.command = redactArgv(this.plan.launch.command);
      serverInfo.log = "server.log";
      console.log(`  server      launching ${formatArgv(redactArgv(this.plan.launch.command))}`);
    } else if (this.plan.kind === "recorded") {
      serverInfo.pid = this.plan.record.pid;
      serverInfo.log = this.plan.record.log;
      console.log(`  server      using the one llmbench server start launched (pid ${this.plan.record.pid}, ${this.plan.url})`);
      writeFileSync(logPath, `# the server was started by llmbench server start; its log is ${this.plan.record.log}\n`);
    } else {
      console.log(`  server      already running at ${this.plan.url}`);
    }
    try {
      const { session, waitedS } = await bringUp(this.plan, {
        backend: this.target.backend,
        logPath,
        commandField: `servers.${this.config.backend}.launch.command`,
        signal: this.interrupt.signal,
        onLaunched: (pid) => {
          this.launchedPid = pid;
          serverInfo.pid = pid;
          writeRunInfo(this.folder.dir, this.info);
        },
      });
      this.session = session;
      serverInfo.ready_after_s = Number(waitedS.toFixed(3));
      console.log(`  server      ready after ${waitedS.toFixed(1)} s: ${session.url}${session.pid ? ` (pid ${session.pid})` : ""}`);
      void session.lost.then((loss) => {
        this.loss = loss;
        this.serverGone.abort(new StopReason(loss.reason));
      });
      return true;
    } catch (error) {
      if (this.interrupt.signal.aborted) {
        this.markRemaining(reasonOf(this.interrupt.signal));
        return false;
      }
      if (!(error instanceof ServerStartError)) throw error;
      console.error(pc.red(`llmbench: the server did not start: ${error.message}`));
      this.info.reason = `the server did not start: ${error.message.split("\n")[0]}`;
      this.markRemaining("the server did not start");
      return false;
    }
  }

  private async runPoints(): Promise<void> {
    const count = this.outcomes.length;
    for (const outcome of this.outcomes) {
      const stopped = this.stopReason() ?? (await this.serverProblem());
      if (stopped) {
        this.markRemaining(stopped);
        return;
      }
      console.log(pc.bold(`[${outcome.index + 1}/${count}] ${describePoint(outcome.point)}`));
      await this.runOutcome(outcome, pointSpecFor(this.config, outcome.point));
    }
  }

  private async runOutcome(outcome: PointOutcome, spec: PointSpec): Promise<PointResult> {
    const signal = AbortSignal.any([this.interrupt.signal, this.serverGone.signal]);
    const result = await executePoint(this.target, spec, {
      dir: join(this.folder.dir, outcome.folder),
      labels: pointLabelsFor(this.config, outcome.point),
      progress: this.options.progress,
      // a search adds points as it goes: its count is what is known so far
      progressTitle: `[${outcome.index + 1}/${Math.max(this.outcomes.length, outcome.index + 1)}] ${describePoint(outcome.point)}`,
      interrupt: signal,
      context: { run: this.folder.name, point: outcome.key, backend: this.config.backend, model: this.config.model.tag },
    });
    outcome.summary = result.summary;
    outcome.row = result.row;
    this.thresholdsFailed ||= result.thresholds.some((threshold) => !threshold.ok);
    for (const line of formatThresholds(result.thresholds)) console.log(line.includes("FAILED") ? pc.red(line) : line);
    outcome.status = signal.aborted ? "cut short" : "done";
    outcome.reason = signal.aborted ? reasonOf(signal) : null;
    this.pointFinished(outcome);
    console.log(formatPointLine(outcome));
    return result;
  }

  /** A capacity search: each probe is a point of the sweep (archived as one), added as the search goes. */
  private async runSearch(search: ResolvedSearch): Promise<void> {
    console.log(`  search      the most ${search.find === "clients" ? "clients" : "request rate"} meeting ${formatSlo(search.slo)} (resolution ${search.resolution})`);
    const result = await runCapacitySearch(search, this.folder.dir, async (point, goodput) => {
      const outcome: PointOutcome = { index: this.outcomes.length, point, key: pointKey(point), folder: pointFolderName(this.outcomes.length, 99, point), status: "pending", reason: null, row: null, summary: null };
      this.outcomes.push(outcome);
      const stopped = this.stopReason() ?? (await this.serverProblem());
      if (stopped) {
        this.markRemaining(stopped);
        return { result: null, folder: outcome.folder, cutShort: stopped };
      }
      console.log(pc.bold(`[search ${outcome.index + 1}] ${describePoint(point)}`));
      const pointResult = await this.runOutcome(outcome, { ...pointSpecFor(this.config, point), goodput });
      return { result: pointResult, folder: outcome.folder, cutShort: outcome.status === "cut short" ? outcome.reason : null };
    }, () => this.stopReason() !== null);
    console.log(`\n${formatSearchResult(result)}`);
  }

  /** Why no further point may start, if something already said so. */
  private stopReason(): string | null {
    if (this.interrupt.signal.aborted) return reasonOf(this.interrupt.signal);
    if (this.loss) return this.loss.reason;
    return null;
  }

  /**
   * A health check before each point, retried for a short window (one failed answer is not a dead
   * server): a server that stops answering for all of it ends the sweep like one that died.
   */
  private async serverProblem(): Promise<string | null> {
    const problem = await answersWithin(this.target.backend, HEALTH_BETWEEN_POINTS_MS, () => this.stopReason() !== null);
    if (problem === null) return null;
    const stopped = this.stopReason();
    if (stopped) return stopped;
    const reason = `the server stopped answering its health check (${problem.attempts} attempts over ${(HEALTH_BETWEEN_POINTS_MS / 1000).toFixed(0)} s; last: ${problem.last})`;
    this.loss = { reason, details: "" };
    return reason;
  }

  private markRemaining(reason: string): void {
    for (const outcome of this.outcomes) {
      if (outcome.status !== "pending") continue;
      outcome.status = "not run";
      outcome.reason = reason;
      this.recordInHistory(outcome);
    }
    this.writeSummary();
  }

  private pointFinished(outcome: PointOutcome): void {
    this.writeSummary();
    this.recordInHistory(outcome);
  }

  private async stopServer(): Promise<void> {
    if (!this.session) return;
    const session = this.session;
    this.session = null;
    const outcome = await session.stop();
    if (this.info.server) this.info.server.stop = outcome;
    console.log(pc.dim(`  ${outcome}`));
  }

  /** Ctrl-C: the point in flight stops (its records are kept), the server is stopped, the run archived. A second one kills at once. */
  private onSignal(signal: "SIGINT" | "SIGTERM"): void {
    if (this.interrupt.signal.aborted) {
      if (this.launchedPid !== null) killProcessGroup(this.launchedPid);
      this.info.reason = `${reasonOf(this.interrupt.signal)}; killed by a second ${signal}`;
      this.finish(null);
      process.exit(this.interruptExitCode);
    }
    this.interruptExitCode = signal === "SIGINT" ? 130 : 143;
    const reason = signal === "SIGINT" ? "interrupted (Ctrl-C)" : "interrupted (SIGTERM)";
    console.error(pc.yellow(`\n${reason}: stopping the point and the server and keeping what was measured (${signal === "SIGINT" ? "Ctrl-C" : "SIGTERM"} again to kill at once)`));
    this.interrupt.abort(new StopReason(reason));
  }

  private finish(failure: string | null): void {
    this.markRemaining(failure ?? this.stopReason() ?? "the sweep ended before it");
    const counts = { done: 0, cutShort: 0, notRun: 0 };
    for (const outcome of this.outcomes) {
      if (outcome.status === "done") counts.done++;
      else if (outcome.status === "cut short") counts.cutShort++;
      else counts.notRun++;
    }
    const everyPointCompleted = this.outcomes.every((outcome) => outcome.status === "done" && (outcome.summary?.completed ?? 0) > 0);
    let status: RunInfo["status"];
    let exitCode: number;
    if (this.interrupt.signal.aborted) {
      status = "interrupted";
      exitCode = this.interruptExitCode;
      this.info.reason ??= reasonOf(this.interrupt.signal);
    } else if (failure !== null || !everyPointCompleted) {
      status = "failed";
      exitCode = failure !== null ? this.failureExitCode : 1;
      this.info.reason ??= failure ?? this.loss?.reason ?? describeIncomplete(this.outcomes);
    } else {
      status = "completed";
      exitCode = this.thresholdsFailed ? 3 : 0; // every point ran; a threshold failed
      if (this.thresholdsFailed) this.info.reason ??= "a threshold failed";
    }
    Object.assign(this.info, {
      ended_at: new Date().toISOString(),
      status,
      exit_code: exitCode,
      points: { planned: this.outcomes.length, done: counts.done, cut_short: counts.cutShort, not_run: counts.notRun },
    });
    writeRunInfo(this.folder.dir, this.info);
    this.writeSummary();
    writeRunReportQuietly(this.folder.dir);
    updateLatestLink(this.folder);
    const runId = this.runId;
    if (runId !== null) {
      this.historyStep((history) => history.finishRun(runId, { ended_at: this.info.ended_at!, status, exit_code: exitCode, reason: this.info.reason }));
    }
    this.history?.close();

    if (this.outcomes.some((outcome) => outcome.summary !== null)) console.log(`\n${formatSweepTable(this.outcomes)}`);
    const skipped = describeSkipped(this.target.sampler.skipped());
    if (skipped) console.log(pc.yellow(`  dataset ${skipped}`));
    if (this.loss) console.error(pc.red(`llmbench: ${this.loss.reason}${this.loss.details ? `\n${this.loss.details}` : ""}`));
    if (counts.notRun > 0) {
      const reasons = [...new Set(this.outcomes.filter((o) => o.status === "not run").map((o) => o.reason))];
      console.error(pc.yellow(`  ${counts.notRun} of ${this.outcomes.length} points not run: ${reasons.join("; ")}`));
    }
    const verdict = status === "completed" ? pc.green("completed") : pc.red(status);
    console.log(`  sweep ${verdict}; results in ${displayPath(this.folder.dir)} (llmbench history lists past runs)`);
  }

  private writeSummary(): void {
    const { config } = this;
    writeSweepSummary(
      this.folder.dir,
      {
        run: this.folder.name, backend: config.backend, model: config.model.tag, model_size: config.model.sizeB, tp: config.model.tp, mode: config.model.mode,
        dataset: { skipped: this.target.sampler.skipped() },
      },
      this.outcomes,
    );
  }

  /** The history is a convenience: failing to write it warns but never costs a measurement. */
  private historyStep<T>(step: (history: RunHistory) => T): T | null {
    if (!this.history) return null;
    try {
      return step(this.history);
    } catch (error) {
      console.error(pc.yellow(`llmbench: warning: could not update ${RunHistory.path(this.config.outputDir)}: ${(error as Error)?.message ?? error}`));
      return null;
    }
  }

  private recordInHistory(outcome: PointOutcome): void {
    const runId = this.runId;
    if (runId !== null) this.historyStep((history) => history.recordPoint(runId, outcome));
  }
}

function openHistory(outputDir: string): RunHistory | null {
  try {
    return RunHistory.open(outputDir, { create: true });
  } catch (error) {
    console.error(pc.yellow(`llmbench: warning: no run history (${(error as Error)?.message ?? error})`));
    return null;
  }
}

function reasonOf(signal: AbortSignal): string {
  const reason = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}

function describeIncomplete(outcomes: readonly PointOutcome[]): string {
  const empty = outcomes.filter((o) => o.summary && o.summary.completed === 0).map((o) => describePoint(o.point));
  return empty.length > 0 ? `no request completed at ${empty.join(", ")}` : "not every point ran to its end";
}

function modelDescription(config: ResolvedBenchConfig): string {
  const parts = [config.model.sizeB === null ? null : `${config.model.sizeB}B`, `TP${config.model.tp}`, config.model.mode || null];
  return parts.filter(Boolean).join(", ");
}

/** Paths under the working folder are shown relative to it. */
function displayPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith("..") ? inside : path;
}
