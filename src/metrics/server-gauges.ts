/** Statistics of the server's own load gauges, sampled at a steady interval during a point. */
export interface GaugeStats {
  mean: number;
  min: number;
  max: number;
  samples: number;
}

/** Per gauge, over the samples that had it (samples are evenly spaced, so the mean is a time average). */
export function summarizeGauges(samples: ReadonlyArray<Readonly<Record<string, number>>>): Record<string, GaugeStats> {
  const sums = new Map<string, GaugeStats>();
  for (const sample of samples) {
    for (const [name, value] of Object.entries(sample)) {
      const stats = sums.get(name);
      if (!stats) sums.set(name, { mean: value, min: value, max: value, samples: 1 });
      else {
        stats.mean += value;
        stats.min = Math.min(stats.min, value);
        stats.max = Math.max(stats.max, value);
        stats.samples++;
      }
    }
  }
  const result: Record<string, GaugeStats> = {};
  for (const [name, stats] of sums) result[name] = { ...stats, mean: stats.mean / stats.samples };
  return result;
}
