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
  return percentileAt(sorted.length, percent, (rank) => sorted[rank]!);
}

/** numpy's linear percentile of `count` samples whose value at each ascending rank is `valueAt(rank)`. */
export function percentileAt(count: number, percent: number, valueAt: (rank: number) => number): number {
  const rank = ((count - 1) * percent) / 100;
  const lower = Math.floor(rank);
  const lowerValue = valueAt(lower);
  return lowerValue + (valueAt(Math.ceil(rank)) - lowerValue) * (rank - lower);
}

/** The ranks (of `count` samples, ascending) a Distribution reads: the ends and both neighbours of each percentile's rank. */
export function distributionRanks(count: number, chosen: readonly number[]): number[] {
  const ranks = new Set<number>([0, count - 1]);
  for (const percent of [50, 90, 99, ...chosen]) {
    const rank = ((count - 1) * percent) / 100;
    ranks.add(Math.floor(rank));
    ranks.add(Math.ceil(rank));
  }
  return [...ranks].sort((a, b) => a - b);
}

/** The Distribution of `count` (> 0) samples, from their value at each rank (distributionRanks), mean and population std. */
export function distributionOf(count: number, valueAt: (rank: number) => number, mean: number, std: number, chosen: readonly number[] = []): Distribution {
  const distribution: Distribution = {
    min: valueAt(0),
    max: valueAt(count - 1),
    mean,
    median: percentileAt(count, 50, valueAt),
    std,
    p90: percentileAt(count, 90, valueAt),
    p99: percentileAt(count, 99, valueAt),
  };
  if (chosen.length > 0) distribution.percentiles = Object.fromEntries(chosen.map((p) => [percentileLabel(p), percentileAt(count, p, valueAt)]));
  return distribution;
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

/** describe for a sample no one else holds: sorted where it is, no copy. */
export function describeInPlace(values: Float64Array | Float32Array, chosen: readonly number[] = []): Distribution | null {
  if (values.length === 0) return null;
  const sorted = values.sort();
  return distributionOf(sorted.length, (rank) => sorted[rank]!, mean(sorted), populationStd(sorted), chosen);
}
