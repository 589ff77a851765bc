/** What a sweep says on the console as it goes: the plan, the server, each point, the table at the end. */
import { relative } from "node:path";
import pc from "picocolors";
import type { PointOutcome } from "../archive/sweep-summary.ts";
import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import type { ResolvedSearch } from "../config/search-config.ts";
import { describeSkipped } from "../dataset/skipped.ts";
import { formatSearchResult } from "../report/search-console.ts";
import { describePoint, formatPointLine, formatSweepTable } from "../report/sweep-console.ts";
import { formatThresholds, type ThresholdResult } from "../report/thresholds.ts";
import { formatArgv, redactArgv } from "../server/redact.ts";
import type { ServerLoss } from "../server/server-session.ts";
import type { SearchFile } from "./search-runner.ts";
import { formatSlo } from "./slo.ts";

export const narrate = {
  start(config: ResolvedBenchConfig, dir: string): void {
    const points = config.sweep.points;
    console.log(
      pc.bold(`llmbench sweep — ${config.backend}, ${config.model.tag} (${modelDescription(config)}), ${points.length} point${points.length === 1 ? "" : "s"}: ${points.map(describePoint).join(", ")}`),
    );
    console.log(`  run folder  ${displayPath(dir)}`);
  },

  launching(command: string[]): void {
    console.log(`  server      launching ${formatArgv(redactArgv(command))}`);
  },

  recordedServer(pid: number, url: string): void {
    console.log(`  server      using the one llmbench server start launched (pid ${pid}, ${url})`);
  },

  externalServer(url: string): void {
    console.log(`  server      already running at ${url}`);
  },

  serverReady(waitedS: number, url: string, pid: number | null): void {
    console.log(`  server      ready after ${waitedS.toFixed(1)} s: ${url}${pid ? ` (pid ${pid})` : ""}`);
  },

  serverFailed(message: string): void {
    console.error(pc.red(`llmbench: the server did not start: ${message}`));
  },

  serverStopped(outcome: string): void {
    console.log(pc.dim(`  ${outcome}`));
  },

  search(search: ResolvedSearch): void {
    console.log(`  search      the most ${search.find === "clients" ? "clients" : "request rate"} meeting ${formatSlo(search.slo)} (resolution ${search.resolution})`);
  },

  searchResult(result: SearchFile): void {
    console.log(`\n${formatSearchResult(result)}`);
  },

  /** "[2/4] 16 clients" before a listed point, "[search 3] 12 clients" before a probe. */
  pointStarts(title: string): void {
    console.log(pc.bold(title));
  },

  pointEnded(outcome: PointOutcome, thresholds: readonly ThresholdResult[], savedResult: string | null): void {
    for (const line of formatThresholds(thresholds)) console.log(line.includes("FAILED") ? pc.red(line) : line);
    if (savedResult) console.log(pc.dim(`      vLLM-format result in ${savedResult}`));
    console.log(formatPointLine(outcome));
  },

  interrupted(reason: string, signal: NodeJS.Signals): void {
    const name = signal === "SIGINT" ? "Ctrl-C" : "SIGTERM";
    console.error(pc.yellow(`\n${reason}: stopping the point and the server and keeping what was measured (${name} again to kill at once)`));
  },

  finished(outcomes: readonly PointOutcome[], status: string, dir: string, skipped: Record<string, number>, loss: ServerLoss | null): void {
    if (outcomes.some((outcome) => outcome.summary !== null)) console.log(`\n${formatSweepTable(outcomes)}`);
    const skips = describeSkipped(skipped);
    if (skips) console.log(pc.yellow(`  dataset ${skips}`));
    if (loss) console.error(pc.red(`llmbench: ${loss.reason}${loss.details ? `\n${loss.details}` : ""}`));
    const notRun = outcomes.filter((outcome) => outcome.status === "not run");
    if (notRun.length > 0) {
      const reasons = [...new Set(notRun.map((outcome) => outcome.reason))];
      console.error(pc.yellow(`  ${notRun.length} of ${outcomes.length} points not run: ${reasons.join("; ")}`));
    }
    const verdict = status === "completed" ? pc.green("completed") : pc.red(status);
    console.log(`  sweep ${verdict}; results in ${displayPath(dir)} (llmbench history lists past runs)`);
  },
};

function modelDescription(config: ResolvedBenchConfig): string {
  const parts = [config.model.sizeB === null ? null : `${config.model.sizeB}B`, `TP${config.model.tp}`, config.model.mode || null];
  return parts.filter(Boolean).join(", ");
}

/** Paths under the working folder are shown relative to it. */
export function displayPath(path: string): string {
  const inside = relative(process.cwd(), path);
  return inside && !inside.startsWith("..") ? inside : path;
}
