import { join } from "node:path";
import pc from "picocolors";
import { writeFileAtomic } from "../archive/result-files.ts";
import { renderRunReport } from "./html/run-report.ts";
import type { RequestStats } from "../metrics/request-stats.ts";
import { loadRun } from "./run-data.ts";

/** Writes `report.html` into a run folder from what the folder holds (its requests' stats `measured`, when at hand: loadRun); returns its path. */
export function writeRunReport(dir: string, output = join(dir, "report.html"), measured?: readonly RequestStats[]): string {
  writeFileAtomic(output, renderRunReport(loadRun(dir, measured)));
  return output;
}

/** At the end of a run or sweep: the report is a convenience, failing to write it warns but costs no measurement. */
export function writeRunReportQuietly(dir: string, measured?: readonly RequestStats[]): string | null {
  try {
    return writeRunReport(dir, undefined, measured);
  } catch (error) {
    console.error(pc.yellow(`llmbench: warning: could not write ${join(dir, "report.html")}: ${(error as Error)?.message ?? error}`));
    return null;
  }
}
