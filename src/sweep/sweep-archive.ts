/**
 * What a sweep leaves on disk: its run folder with config.resolved.json, run.json and the sweep
 * summary (rewritten as each point ends), the HTML report, the `latest` link, and its rows in the
 * run history. The history is a convenience: failing to write it warns but never costs a measurement.
 */
import { join } from "node:path";
import pc from "picocolors";
import { RunHistory } from "../archive/history.ts";
import { writeFileAtomic } from "../archive/result-files.ts";
import { createRunFolder, updateLatestLink, type RunFolder } from "../archive/run-folder.ts";
import { newRunInfo, writeRunInfo, type RunInfo } from "../archive/run-info.ts";
import { writeSweepSummary, type PointOutcome } from "../archive/sweep-summary.ts";
import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import { writeRunReportQuietly } from "../report/write-report.ts";
import { resolvedConfigForArchive } from "./archived-config.ts";

export class SweepArchive {
  readonly folder: RunFolder;
  readonly info: RunInfo;
  private readonly history: RunHistory | null;
  private readonly runId: number | null;

  constructor(
    private readonly config: ResolvedBenchConfig,
    command: string[],
    /** The points' outcomes, kept up to date by the sweep (a capacity search adds to them). */
    private readonly outcomes: PointOutcome[],
    /** summary.json's dataset entry, read when the summary is written. */
    private readonly datasetSkips: () => unknown,
  ) {
    const started = new Date();
    this.folder = createRunFolder(config.outputDir, config.backend, config.model.tag, started);
    this.info = newRunInfo(config.configPath, command, started, outcomes.length);
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
        dataset: config.dataset.path ?? "synthetic",
        points_planned: outcomes.length,
        llmbench_version: this.info.llmbench,
        host: this.info.host.name,
        pid: this.info.pid,
        pid_start: this.info.pid_start,
      }),
    );
  }

  get dir(): string {
    return this.folder.dir;
  }

  /** run.json as it stands (the server's pid as soon as there is one). */
  writeInfo(): void {
    writeRunInfo(this.folder.dir, this.info);
  }

  /** A point ended, or was given up: the summary and its history row. */
  pointEnded(outcome: PointOutcome): void {
    this.writeSummary();
    this.recordInHistory(outcome);
  }

  /** Points marked as not run: each into the history, then the summary once. */
  pointsGivenUp(outcomes: readonly PointOutcome[]): void {
    for (const outcome of outcomes) this.recordInHistory(outcome);
    this.writeSummary();
  }

  /** The run is over: run.json, the summary, the report, `latest`, the history's run row. */
  finish(fields: Pick<RunInfo, "status" | "exit_code" | "points">): void {
    Object.assign(this.info, { ended_at: new Date().toISOString(), ...fields });
    writeRunInfo(this.folder.dir, this.info);
    this.writeSummary();
    writeRunReportQuietly(this.folder.dir);
    updateLatestLink(this.folder);
    const runId = this.runId;
    if (runId !== null) {
      this.historyStep((history) => history.finishRun(runId, { ended_at: this.info.ended_at!, status: fields.status, exit_code: fields.exit_code!, reason: this.info.reason }));
    }
    this.history?.close();
  }

  writeSummary(): void {
    const { config } = this;
    writeSweepSummary(
      this.folder.dir,
      {
        run: this.folder.name, backend: config.backend, model: config.model.tag, model_size: config.model.sizeB, tp: config.model.tp, mode: config.model.mode,
        dataset: { skipped: this.datasetSkips() },
      },
      this.outcomes,
    );
  }

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
