/** Small seeded PRNGs: every random choice llmbench makes is reproducible from (seed, key...). */

/** murmur3's 32-bit finalizer: spreads nearby keys (users 0, 1, 2...) far apart. */
function mix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A uniform [0, 1) generator (mulberry32) whose stream depends only on the given integer keys. */
export function seededRandom(...keys: number[]): () => number {
  let state = 0x2545f491;
  for (const key of keys) state = mix32(state ^ mix32(key + 0x9e3779b9));
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
