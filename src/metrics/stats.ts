/** Distribution statistics computed the way numpy does, so results compare with the seed's CSVs. */

export interface Distribution {
  min: number;
  max: number;
  mean: number;
  median: number;
  /** Population standard deviation (numpy's default, ddof = 0). */
  std: number;
  p90: number;
  p99: number;
  /** The percentiles the user chose (--metric-percentiles), keyed by percentileLabel: "50", "99.9". */
  percentiles?: Record<string, number>;
}

/** How a percentile is named in keys and columns: 99 → "99", 99.9 → "99.9" (vLLM's names). */
export function percentileLabel(percent: number): string {
  return String(percent);
}

/** numpy.percentile with the default "linear" method; `sorted` must be ascending and non-empty. */
export function percentileOfSorted(sorted: ArrayLike<number>, percent: number): number {
  const rank = ((sorted.length - 1) * percent) / 100;
  const lower = Math.floor(rank);
  const upper = Math.ceil(rank);
  const lowerValue = sorted[lower]!;
  return lowerValue + (sorted[upper]! - lowerValue) * (rank - lower);
}

export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  return sum / values.length;
}

export function populationStd(values: ArrayLike<number>): number {
  const m = mean(values);
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - m) * (values[i]! - m);
  return Math.sqrt(squares / values.length);
}

/** Statistics of a sample, or null when it is empty (nothing was measured). */
export function describe(values: ArrayLike<number>, chosen: readonly number[] = []): Distribution | null {
  return values.length === 0 ? null : describeInPlace(Float64Array.from(values), chosen);
}

/** describe for a sample no one else holds: sorted where it is, no copy (a point's ITL samples are millions, in single precision). */
export function describeInPlace(values: Float64Array | Float32Array, chosen: readonly number[] = []): Distribution | null {
  if (values.length === 0) return null;
  const sorted = values.sort();
  const distribution: Distribution = {
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    mean: mean(sorted),
    median: percentileOfSorted(sorted, 50),
    std: populationStd(sorted),
    p90: percentileOfSorted(sorted, 90),
    p99: percentileOfSorted(sorted, 99),
  };
  if (chosen.length > 0) distribution.percentiles = Object.fromEntries(chosen.map((p) => [percentileLabel(p), percentileOfSorted(sorted, p)]));
  return distribution;
}
