/** The console table of `run --num-runs K`: per metric, the mean across runs ± its 95 % half width, and each run's value. */
import pc from "picocolors";
import type { RepeatedRuns } from "../runner/repeat-runs.ts";
import { cell, formatTable } from "./text-table.ts";

export function formatRepeats(repeats: RepeatedRuns): string {
  const rows = [["metric", "mean", "± 95 %", "low", "high", ...repeats.runs.map((run) => `run ${run.run}`)]];
  for (const [metric, interval] of Object.entries(repeats.metrics)) {
    if (!interval) continue;
    rows.push([metric, cell(interval.mean, 2), cell(interval.half_width, 2), cell(interval.low, 2), cell(interval.high, 2), ...interval.values.map((v) => cell(v, 2))]);
  }
  const [header, ...body] = formatTable(rows, "l" + "r".repeat(rows[0]!.length - 1));
  const title = pc.bold(`  ${repeats.num_runs} runs: mean across runs with its 95 % confidence interval (Student's t); overlapping intervals are within noise`);
  return [title, pc.dim(header!), ...body].join("\n");
}
