/**
 * `run --num-runs K`: the first run is the run (its files in the result folder, its CSV row the
 * seed's); runs 2 … K go to run-2/ … run-K/; repeats.json has, per metric, every run's value and
 * the mean with its 95 % interval.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../archive/result-files.ts";
import { repeatIntervals, type MeanInterval } from "../metrics/repeat-interval.ts";
import type { PointResult } from "./point.ts";

export interface RepeatedRuns {
  num_runs: number;
  runs: Array<{ run: number; folder: string; completed: number; failed: number }>;
  metrics: Record<string, MeanInterval | null>;
}

export async function repeatRuns(
  options: { numRuns: number },
  dir: string,
  first: PointResult,
  runAgain: (dir: string) => Promise<PointResult>,
  interrupt: AbortSignal,
): Promise<RepeatedRuns> {
  const results = [{ folder: ".", result: first }];
  for (let run = 2; run <= options.numRuns && !interrupt.aborted && !first.interrupted; run++) {
    const folder = `run-${run}`;
    const result = await runAgain(join(dir, folder));
    if (result.interrupted) break; // a cut-short run would skew the intervals
    results.push({ folder, result });
  }
  const repeats: RepeatedRuns = {
    num_runs: results.length,
    runs: results.map(({ folder, result }, index) => ({ run: index + 1, folder, completed: result.summary.completed, failed: result.summary.failed })),
    metrics: repeatIntervals(results.map(({ result }) => result.row)),
  };
  writeFileAtomic(join(dir, "repeats.json"), JSON.stringify(repeats, null, 2) + "\n");
  return repeats;
}
