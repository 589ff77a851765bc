import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { assertWritableDir } from "../archive/result-files.ts";
import { UPLOAD_FAILED_EXIT_CODE } from "../archive/s3-upload.ts";
import type { PointOutcome } from "../archive/sweep-summary.ts";
import { Interrupt, reasonOf } from "../common/interrupt.ts";
import { StopReason } from "../common/stop-reason.ts";
import { UsageError } from "../common/usage-error.ts";
import type { ResolvedBenchConfig, SweepPoint } from "../config/bench-config.ts";
import type { RunSettings } from "../config/run-settings.ts";
import type { ResolvedSearch } from "../config/search-config.ts";
import type { GoodputSlo } from "../metrics/goodput.ts";
import type { RunInfo } from "../archive/run-info.ts";
import { describePoint } from "../report/sweep-console.ts";
import { backendFor } from "../runner/backend-for.ts";
import type { PointResult } from "../runner/point.ts";
import { measurePoint, pointColumns, pointLabels, Targets, workloadOf, type PreparedPoint } from "../runner/settings-point.ts";
import type { Backend } from "../backends/backend.ts";
import { assertProgramExists } from "../server/launch.ts";
import { assertPortFree } from "../server/port-holder.ts";
import { killProcessGroup } from "../server/process-group.ts";
import { answersWithin } from "../server/readiness.ts";
import { redactArgv } from "../server/redact.ts";
import { bringUp, planServer, type ServerPlan } from "../server/server-plan.ts";
import { ServerStartError, type ServerLoss, type ServerSession } from "../server/server-session.ts";
import { baseSettings, pointFolderName, pointKey, settingsForPoint } from "./point-spec.ts";
import { runCapacitySearch } from "./search-runner.ts";
import { SweepArchive } from "./sweep-archive.ts";
import { uploadSweep } from "./sweep-upload.ts";
import { narrate } from "./sweep-narration.ts";

export interface SweepOptions {
  progress: boolean;
  /** llmbench's own argv, for run.json. */
  command: string[];
  /** Worker processes each point runs in as shards (--workers; 1 or absent: this process). */
  workers?: number;
}

const HEALTH_BETWEEN_POINTS_MS = 10_000;

/**
 * `llmbench sweep`: brings the server up, runs every point in order (each point's results are
 * written as it finishes), stops the server, archives the run. Ctrl-C, an error or a server that
 * dies stop the sweep: the points left are recorded as not run, with the reason, and what was
 * measured is kept. Returns the exit code: 0 when every point ran and completed requests, 1
 * otherwise, 3 when a threshold failed, 130 on Ctrl-C (143 on SIGTERM).
 */
export async function runSweep(config: ResolvedBenchConfig, options: SweepOptions): Promise<number> {
  const plan = planServer(config);
  const targets = new Targets();
  try {
    // Dataset, tokenizer and trace problems are usage errors, found before any server starts.
    const prepared: PreparedPoint[] = [];
    for (const settings of config.settings.points) prepared.push(await targets.prepare({ ...settings, baseUrl: plan.url }));
    if (config.sweep.search) await targets.prepare({ ...baseSettings(config), baseUrl: plan.url });
    assertWritableDir(config.outputDir, "output.dir (--output-dir)");
    if (plan.kind === "launch") {
      assertProgramExists(plan.launch, `servers.${config.backend}.launch.command`);
      await assertPortFree(plan.url, `servers.${config.backend}.url`);
    }
    const health = backendFor({ ...baseSettings(config), baseUrl: plan.url });
    try {
      return await new Sweep(config, plan, targets, prepared, health, options).run();
    } finally {
      health.close?.();
    }
  } finally {
    await targets.close(); // a gRPC channel left open would keep the process alive
  }
}

/** The sweep's lifecycle: the server up, the points in order (or a search), the server down; the archive and the console hear of each step. */
class Sweep {
  private readonly archive: SweepArchive;
  private readonly info: RunInfo;
  /** The listed points, or (in a capacity search) the points probed so far. */
  private readonly outcomes: PointOutcome[];
  private readonly interrupt: Interrupt;
  private readonly serverGone = new AbortController();
  /** Some point's threshold failed: the exit code is 3 when nothing else went wrong. */
  private thresholdsFailed = false;
  /** Exit code of a run that failed: 1, or 2 when a usage error (a bad setting) ended it. */
  private failureExitCode = 1;
  private session: ServerSession | null = null;
  /** The server this run launched, from the moment it exists (a second Ctrl-C must reach it even during startup). */
  private launchedPid: number | null = null;
  private loss: ServerLoss | null = null;

  constructor(
    private readonly config: ResolvedBenchConfig,
    private readonly plan: ServerPlan,
    private readonly targets: Targets,
    private readonly prepared: PreparedPoint[],
    /** The backend of the readiness and between-point health checks. */
    private readonly health: Backend,
    private readonly options: SweepOptions,
  ) {
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
    this.archive = new SweepArchive(config, options.command, this.outcomes, () => targets.skipped());
    this.info = this.archive.info;
    this.interrupt = new Interrupt({
      onFirst: (reason, signal) => narrate.interrupted(reason, signal),
      onSecond: (signal) => {
        if (this.launchedPid !== null) killProcessGroup(this.launchedPid);
        this.info.reason = `${reasonOf(this.interrupt.signal)}; killed by a second ${signal}`;
        this.finish(null);
      },
    });
  }

  async run(): Promise<number> {
    this.interrupt.start();
    narrate.start(this.config, this.archive.dir);
    if ((this.options.workers ?? 1) > 1) console.log(`  workers     ${this.options.workers} processes per point (fewer when a point has fewer users), merged per point`);
    let failure: string | null = null;
    let uploaded: boolean | null = null;
    try {
      if (await this.startServer()) await (this.config.sweep.search ? this.runSearch(this.config.sweep.search) : this.runPoints());
    } catch (error) {
      failure = (error as Error)?.message ?? String(error);
      if (error instanceof UsageError) this.failureExitCode = 2; // what llmbench then exits with
      throw error;
    } finally {
      await this.stopServer();
      this.interrupt.stop();
      this.finish(failure);
      if (this.config.upload) uploaded = await uploadSweep(this.archive.folder, this.config.upload);
    }
    // the archive's exit code is the measurement's; a failed upload shows in the process's only
    return uploaded === false && this.info.exit_code === 0 ? UPLOAD_FAILED_EXIT_CODE : this.info.exit_code!;
  }

  /** Brings the server up; false (with the reason recorded) when it could not be. */
  private async startServer(): Promise<boolean> {
    const logPath = join(this.archive.dir, "server.log");
    const serverInfo: Record<string, unknown> = { origin: this.plan.kind, url: this.plan.url };
    this.info.server = serverInfo;
    if (this.plan.kind === "launch") {
      serverInfo.command = redactArgv(this.plan.launch.command);
      serverInfo.log = "server.log";
      narrate.launching(this.plan.launch.command);
    } else if (this.plan.kind === "recorded") {
      serverInfo.pid = this.plan.record.pid;
      serverInfo.log = this.plan.record.log;
      narrate.recordedServer(this.plan.record.pid, this.plan.url);
      writeFileSync(logPath, `# the server was started by llmbench server start; its log is ${this.plan.record.log}\n`);
    } else {
      narrate.externalServer(this.plan.url);
    }
    try {
      const { session, waitedS } = await bringUp(this.plan, {
        backend: this.health,
        logPath,
        commandField: `servers.${this.config.backend}.launch.command`,
        signal: this.interrupt.signal,
        onLaunched: (pid) => {
          this.launchedPid = pid;
          serverInfo.pid = pid;
          this.archive.writeInfo();
        },
      });
      this.session = session;
      serverInfo.ready_after_s = Number(waitedS.toFixed(3));
      narrate.serverReady(waitedS, session.url, session.pid);
      void session.lost.then((loss) => {
        this.loss = loss;
        this.serverGone.abort(new StopReason(loss.reason));
      });
      return true;
    } catch (error) {
      if (this.interrupt.aborted) {
        this.markRemaining(reasonOf(this.interrupt.signal));
        return false;
      }
      if (!(error instanceof ServerStartError)) throw error;
      narrate.serverFailed(error.message);
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
      narrate.pointStarts(`[${outcome.index + 1}/${count}] ${describePoint(outcome.point)}`);
      await this.runOutcome(outcome, this.prepared[outcome.index]!);
    }
  }

  private async runOutcome(outcome: PointOutcome, prepared: PreparedPoint): Promise<PointResult> {
    const signal = AbortSignal.any([this.interrupt.signal, this.serverGone.signal]);
    const { settings } = prepared;
    const { result, savedResult } = await measurePoint(
      prepared,
      {
        dir: join(this.archive.dir, outcome.folder),
        labels: pointLabels(settings),
        columns: pointColumns(settings),
        progress: this.options.progress,
        // a search adds points as it goes: its count is what is known so far
        progressTitle: `[${outcome.index + 1}/${Math.max(this.outcomes.length, outcome.index + 1)}] ${describePoint(outcome.point)}`,
        interrupt: signal,
        context: { run: this.archive.folder.name, point: outcome.key, backend: this.config.backend, model: this.config.model.tag, workload: workloadOf(settings) },
      },
      new Date(),
      this.options.workers ?? 1,
    );
    outcome.summary = result.summary;
    outcome.row = result.row;
    this.thresholdsFailed ||= result.thresholds.some((threshold) => !threshold.ok);
    outcome.status = signal.aborted ? "cut short" : "done";
    outcome.reason = signal.aborted ? reasonOf(signal) : null;
    this.archive.pointEnded(outcome);
    narrate.pointEnded(outcome, result.thresholds, savedResult);
    return result;
  }

  /** A capacity search: each probe is a point of the sweep (archived as one), added as the search goes. */
  private async runSearch(search: ResolvedSearch): Promise<void> {
    narrate.search(search);
    const result = await runCapacitySearch(search, this.archive.dir, async (point: SweepPoint, goodput: GoodputSlo | null) => {
      const outcome: PointOutcome = { index: this.outcomes.length, point, key: pointKey(point), folder: pointFolderName(this.outcomes.length, 99, point), status: "pending", reason: null, row: null, summary: null };
      this.outcomes.push(outcome);
      const stopped = this.stopReason() ?? (await this.serverProblem());
      if (stopped) {
        this.markRemaining(stopped);
        return { result: null, folder: outcome.folder, cutShort: stopped };
      }
      narrate.pointStarts(`[search ${outcome.index + 1}] ${describePoint(point)}`);
      const settings: RunSettings = { ...settingsForPoint(this.config, point), baseUrl: this.plan.url, goodput };
      const pointResult = await this.runOutcome(outcome, await this.targets.prepare(settings));
      return { result: pointResult, folder: outcome.folder, cutShort: outcome.status === "cut short" ? outcome.reason : null };
    }, () => this.stopReason() !== null);
    narrate.searchResult(result);
  }

  /** Why no further point may start, if something already said so. */
  private stopReason(): string | null {
    if (this.interrupt.aborted) return reasonOf(this.interrupt.signal);
    if (this.loss) return this.loss.reason;
    return null;
  }

  /**
   * A health check before each point, retried for a short window (one failed answer is not a dead
   * server): a server that stops answering for all of it ends the sweep like one that died.
   */
  private async serverProblem(): Promise<string | null> {
    const problem = await answersWithin(this.health, HEALTH_BETWEEN_POINTS_MS, () => this.stopReason() !== null);
    if (problem === null) return null;
    const stopped = this.stopReason();
    if (stopped) return stopped;
    const reason = `the server stopped answering its health check (${problem.attempts} attempts over ${(HEALTH_BETWEEN_POINTS_MS / 1000).toFixed(0)} s; last: ${problem.last})`;
    this.loss = { reason, details: "" };
    return reason;
  }

  private markRemaining(reason: string): void {
    const pending = this.outcomes.filter((outcome) => outcome.status === "pending");
    for (const outcome of pending) {
      outcome.status = "not run";
      outcome.reason = reason;
    }
    this.archive.pointsGivenUp(pending);
  }

  private async stopServer(): Promise<void> {
    if (!this.session) return;
    const session = this.session;
    this.session = null;
    const outcome = await session.stop();
    if (this.info.server) this.info.server.stop = outcome;
    narrate.serverStopped(outcome);
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
    if (this.interrupt.aborted) {
      status = "interrupted";
      exitCode = this.interrupt.exitCode;
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
    this.archive.finish({ status, exit_code: exitCode, points: { planned: this.outcomes.length, done: counts.done, cut_short: counts.cutShort, not_run: counts.notRun } });
    narrate.finished(this.outcomes, status, this.archive.dir, this.targets.skipped(), this.loss);
  }
}

function describeIncomplete(outcomes: readonly PointOutcome[]): string {
  const empty = outcomes.filter((o) => o.summary && o.summary.completed === 0).map((o) => describePoint(o.point));
  return empty.length > 0 ? `no request completed at ${empty.join(", ")}` : "not every point ran to its end";
}
