import type { CAC } from "cac";
import { existsSync, statSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { writeFileAtomic } from "../archive/result-files.ts";
import type { RawFlags } from "../config/run-options.ts";
import { UsageError } from "../config/usage-error.ts";
import { renderComparison, runLabel } from "../report/html/compare-report.ts";
import { loadRun, type ReportRun } from "../report/run-data.ts";
import { writeRunReport } from "../report/write-report.ts";
import { workloadDifferences, workloadOf } from "../report/workload.ts";

export function registerReport(cli: CAC): void {
  cli
    .command("report [...runDirs]", "HTML report: one run folder regenerates its report.html, several make one comparison page")
    .option("-o, --output <file>", "Where to write it (one run: <dir>/report.html; several: comparison.html)")
    .option("--allow-different", "Compare runs whose workloads differ (the page lists the differences)")
    .action((runDirs: string[], flags: RawFlags) => {
      const path = reportCommand(runDirs, {
        output: typeof flags.output === "string" ? flags.output : null,
        allowDifferent: flags.allowDifferent === true,
      });
      const shown = relative(process.cwd(), path);
      console.log(`report written to ${shown && !shown.startsWith("..") ? shown : path}`);
    });
}

export function reportCommand(runDirs: readonly string[], options: { output: string | null; allowDifferent: boolean }): string {
  if (runDirs.length === 0) throw new UsageError("report: give one or more run folders (e.g. result/latest)");
  const runs = runDirs.map(load);
  if (runs.length === 1) return writeRunReport(runs[0]!.dir, options.output ? resolve(options.output) : join(runs[0]!.dir, "report.html"));

  const differences = workloadDifferences(runs.map(workloadOf));
  if (differences.length > 0 && !options.allowDifferent) {
    const lines = differences.map((d) => `  ${d.field}: ${d.values.map((v, i) => `${runLabel(runs[i]!, i)} ${v}`).join(", ")}`);
    throw new UsageError(`report: these runs' workloads differ, so their numbers do not compare:\n${lines.join("\n")}\n(give --allow-different to compare them anyway)`);
  }
  const output = resolve(options.output ?? "comparison.html");
  writeFileAtomic(output, renderComparison(runs, differences));
  return output;
}

function load(dir: string): ReportRun {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`report: ${dir}: no such run folder`);
  try {
    return loadRun(dir);
  } catch (error) {
    throw new UsageError(`report: ${(error as Error).message}`);
  }
}
