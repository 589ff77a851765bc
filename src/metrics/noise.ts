/**
 * Whether two runs' difference in a metric is real or noise, from their repeated runs
 * (--num-runs, repeats.json): within noise when the 95 % confidence intervals overlap. Pure.
 */
import { withinNoise, type MeanInterval } from "./repeat-interval.ts";

/** A point's intervals per metric, as repeats.json has them. */
export type PointIntervals = Readonly<Record<string, MeanInterval | null | undefined>>;

/** True: the intervals overlap (within noise); false: they do not; null: a side has no interval for the metric. */
export function noiseVerdict(a: PointIntervals | undefined, b: PointIntervals | undefined, metric: string): boolean | null {
  const intervalA = a?.[metric];
  const intervalB = b?.[metric];
  if (!intervalA || !intervalB) return null;
  return withinNoise(intervalA, intervalB);
}
