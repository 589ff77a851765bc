/**
 * Repeated runs of one point: per metric, the mean across runs with a 95 % confidence interval
 * (Student's t, n − 1 degrees of freedom, sample standard deviation), so that two results can be
 * told apart from noise. Pure.
 */

import { repeatedColumns } from "./registry.ts";

/** Two-sided 95 % critical values of Student's t for 1 … 30 degrees of freedom. */
const T_95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function tCritical95(degreesOfFreedom: number): number {
  if (degreesOfFreedom < 1) throw new Error("a confidence interval needs at least two runs");
  return T_95[degreesOfFreedom - 1] ?? 1.96;
}

export interface MeanInterval {
  mean: number;
  /** Half the interval's width: mean ± this. */
  half_width: number;
  low: number;
  high: number;
  /** Sample standard deviation across runs (n − 1). */
  std: number;
  values: number[];
}

/** Null when fewer than two runs have the metric. */
export function meanInterval(values: readonly number[]): MeanInterval | null {
  if (values.length < 2) return null;
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (n - 1);
  const std = Math.sqrt(variance);
  const halfWidth = (tCritical95(n - 1) * std) / Math.sqrt(n);
  return { mean, half_width: halfWidth, low: mean - halfWidth, high: mean + halfWidth, std, values: [...values] };
}

/** The metrics compared across runs, as named in a point's row: the registry's `repeat` ones. */
export const REPEATED_METRICS: readonly string[] = repeatedColumns();

/** Per metric, the interval over the runs' rows (metrics a run lacks are left out of its sample). */
export function repeatIntervals(rows: ReadonlyArray<Record<string, unknown>>): Record<string, MeanInterval | null> {
  const result: Record<string, MeanInterval | null> = {};
  for (const metric of REPEATED_METRICS) {
    const values = rows.map((row) => row[metric]).filter((value): value is number => typeof value === "number" && Number.isFinite(value));
    result[metric] = meanInterval(values);
  }
  return result;
}

/** Two intervals that overlap: their difference is within noise. */
export function withinNoise(a: MeanInterval, b: MeanInterval): boolean {
  return a.low <= b.high && b.low <= a.high;
}
