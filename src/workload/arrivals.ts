/**
 * Inter-arrival gaps of an open-loop workload: exponential (a Poisson process) for burstiness 1,
 * gamma with shape = burstiness and the same mean otherwise (< 1 burstier, > 1 more regular).
 */

function standardNormal(random: () => number): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Gamma(shape, 1) by Marsaglia and Tsang; shapes below 1 through the boost Gamma(k+1) × U^(1/k). */
export function gammaDraw(shape: number, random: () => number): number {
  if (shape < 1) return gammaDraw(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = standardNormal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
  }
}

/** A generator of gaps in seconds with mean 1 / rate; all zero for an infinite rate. */
export function gapGenerator(rate: number, burstiness: number, random: () => number): () => number {
  if (rate === Infinity) return () => 0;
  if (burstiness === 1) return () => -Math.log(1 - random()) / rate;
  const scale = 1 / (rate * burstiness);
  return () => gammaDraw(burstiness, random) * scale;
}
