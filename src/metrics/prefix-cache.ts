/**
 * A point's prefix-cache hits from the server's counters: their growth between a reading taken
 * just before the point's first request and one just after its last. Pure arithmetic, no I/O.
 */

export interface CounterReading {
  prefix_cache_queried_tokens?: number;
  prefix_cache_hit_tokens?: number;
}

export interface PrefixCacheDelta {
  /** Prompt tokens the server looked up in its prefix cache during the point. */
  queried_tokens: number;
  /** Of them, tokens it found there. */
  hit_tokens: number;
  /** hit_tokens / queried_tokens; null when nothing was queried. */
  hit_rate: number | null;
}

/**
 * The counters' growth from `before` to `after`; null when either reading lacks them, or when a
 * counter went down (the server restarted in between: the growth is unknown).
 */
export function prefixCacheDelta(before: CounterReading | null, after: CounterReading | null): PrefixCacheDelta | null {
  const q0 = before?.prefix_cache_queried_tokens;
  const h0 = before?.prefix_cache_hit_tokens;
  const q1 = after?.prefix_cache_queried_tokens;
  const h1 = after?.prefix_cache_hit_tokens;
  if (q0 === undefined || h0 === undefined || q1 === undefined || h1 === undefined) return null;
  const queried = q1 - q0;
  const hit = h1 - h0;
  if (queried < 0 || hit < 0) return null;
  return { queried_tokens: queried, hit_tokens: hit, hit_rate: queried > 0 ? hit / queried : null };
}
