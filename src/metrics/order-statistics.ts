/**
 * The distribution of samples held in many single-precision arrays (a point's ITL: one array per
 * request, millions of samples in all), computed where they lie: no copy, no sort. Sorting the
 * point's ITL took a copy of every sample into one array, and JSC's sort took a second: ~20 MB of
 * RSS at the end of a 10,000-stream point, more than its whole summary otherwise.
 *
 * Each order statistic is exact: a radix select over the samples' bits, ordered as their values
 * are (negative floats' bits flipped), the top 16 bits counted in one pass, the bottom 16 of the
 * few buckets that hold a wanted rank in a second. The figures equal describeInPlace's of the
 * same samples concatenated: min, max and percentiles bit for bit; the mean and standard
 * deviation to the last few bits (a sum taken in another order).
 */
import { distributionOf, distributionRanks, type Distribution } from "./stats.ts";

const BUCKETS = 1 << 16;
/** Buckets whose low halves are counted in one pass: 16 × 256 KB of counts at most. */
const SLOTS_PER_PASS = 16;

/** The distribution of every sample of `chunks` (null when they hold none), as describeInPlace gives it. */
export function describeChunks(chunks: readonly Float32Array[], chosen: readonly number[] = []): Distribution | null {
  let count = 0;
  let sum = 0;
  for (const chunk of chunks) {
    count += chunk.length;
    for (let i = 0; i < chunk.length; i++) sum += chunk[i]!;
  }
  if (count === 0) return null;
  const mean = sum / count;
  let squares = 0;
  for (const chunk of chunks) for (let i = 0; i < chunk.length; i++) squares += (chunk[i]! - mean) * (chunk[i]! - mean);

  const valueAt = selectRanks(chunks, count, distributionRanks(count, chosen));
  return distributionOf(count, (rank) => valueAt.get(rank)!, mean, Math.sqrt(squares / count), chosen);
}

/** The value at each of `ranks` (ascending, each < count) in the ascending order of every sample of `chunks`. */
export function selectRanks(chunks: readonly Float32Array[], count: number, ranks: readonly number[]): Map<number, number> {
  const views = chunks.map((chunk) => new Uint32Array(chunk.buffer, chunk.byteOffset, chunk.length));
  const high = new Float64Array(BUCKETS);
  for (const view of views) for (let i = 0; i < view.length; i++) high[orderedKey(view[i]!) >>> 16]!++;

  // each rank's bucket and its rank among the bucket's samples
  const wanted: Array<{ rank: number; bucket: number; within: number }> = [];
  let bucket = 0;
  let below = 0; // samples in the buckets before `bucket`
  for (const rank of ranks) {
    if (rank < 0 || rank >= count) throw new RangeError(`rank ${rank} outside 0..${count - 1}`);
    while (below + high[bucket]! <= rank) below += high[bucket++]!;
    wanted.push({ rank, bucket, within: rank - below });
  }

  const values = new Map<number, number>();
  const buckets = [...new Set(wanted.map((w) => w.bucket))];
  const slotOf = new Int8Array(BUCKETS);
  const bits = new Uint32Array(1);
  const asFloat = new Float32Array(bits.buffer);
  for (let from = 0; from < buckets.length; from += SLOTS_PER_PASS) {
    const batch = buckets.slice(from, from + SLOTS_PER_PASS);
    slotOf.fill(-1);
    batch.forEach((b, slot) => (slotOf[b] = slot));
    const low = new Float64Array(batch.length * BUCKETS);
    for (const view of views) {
      for (let i = 0; i < view.length; i++) {
        const key = orderedKey(view[i]!);
        const slot = slotOf[key >>> 16]!;
        if (slot >= 0) low[slot * BUCKETS + (key & 0xffff)]!++;
      }
    }
    for (const w of wanted) {
      const slot = slotOf[w.bucket]!;
      if (slot < 0) continue;
      let index = 0;
      let seen = 0;
      const base = slot * BUCKETS;
      while (seen + low[base + index]! <= w.within) seen += low[base + index++]!;
      bits[0] = valueBits(((w.bucket << 16) | index) >>> 0);
      values.set(w.rank, asFloat[0]!);
    }
  }
  return values;
}

/** A float's bits as an unsigned key that orders as the floats do (negatives, their bits reversed, first; NaN last). */
function orderedKey(bits: number): number {
  return (bits & 0x80000000 ? ~bits : bits | 0x80000000) >>> 0;
}

function valueBits(key: number): number {
  return (key & 0x80000000 ? key & 0x7fffffff : ~key) >>> 0;
}
