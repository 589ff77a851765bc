/**
 * The simulator's prefix cache, as vLLM's automatic prefix caching works: a prompt is cut into
 * blocks of `blockTokens` tokens; each full block is named by a hash of its text chained to the
 * previous block's hash (so a block only matches after the same prefix); a request reuses the
 * longest run of leading blocks already cached and prefills only the rest. Blocks live in an LRU of
 * `capacityBlocks`. The simulator's tokens are about four characters (approximateTokens), so a
 * block is 4 × blockTokens characters of the prompt.
 *
 * A prompt's blocks are cached when it is admitted; the answer's are not (a later turn sends the
 * answer back inside the history with separators the model never saw, so they would not match).
 */

export interface PrefixCacheSettings {
  /** Tokens per block (vLLM's --block-size, 16 by default). */
  blockTokens: number;
  /** Blocks the cache holds at most; the least recently used go first. */
  capacityBlocks: number;
}

export const DEFAULT_PREFIX_CACHE: PrefixCacheSettings = { blockTokens: 16, capacityBlocks: 8192 };

/** Characters of one simulated token (approximateTokens' ratio). */
const CHARS_PER_TOKEN = 4;
/** Requests the SGLang-style hit-rate gauge looks back over. */
const RECENT_REQUESTS = 64;

export class PrefixCache {
  /** Block hashes, least recently used first (a Map keeps insertion order). */
  private readonly blocks = new Map<number, true>();
  /** Prompt tokens looked up so far (vLLM's prefix_cache_queries, SGLang's prompt_tokens_total). */
  queriedTokens = 0;
  /** Of them, tokens found in the cache (vLLM's prefix_cache_hits, SGLang's cached_tokens_total). */
  hitTokens = 0;
  private readonly recent: Array<[queried: number, hit: number]> = [];

  constructor(readonly settings: PrefixCacheSettings) {}

  /**
   * Admits a prompt of `promptTokens` tokens: how many of its leading tokens were cached. At least
   * one token is always computed (a whole-prompt hit gives back its last block, as vLLM does).
   * Every full block of the prompt is cached afterwards.
   */
  admit(prompt: string, promptTokens: number): number {
    const { blockTokens } = this.settings;
    const blockChars = blockTokens * CHARS_PER_TOKEN;
    const fullBlocks = Math.min(Math.floor(prompt.length / blockChars), Math.floor(promptTokens / blockTokens));
    const hashes: number[] = [];
    let parent = 0x811c9dc5;
    for (let block = 0; block < fullBlocks; block++) {
      parent = blockHash(parent, prompt, block * blockChars, (block + 1) * blockChars);
      hashes.push(parent);
    }
    let hitBlocks = 0;
    while (hitBlocks < hashes.length && this.blocks.has(hashes[hitBlocks]!)) hitBlocks++;
    if (hitBlocks * blockTokens >= promptTokens) hitBlocks = Math.floor((promptTokens - 1) / blockTokens);
    for (const hash of hashes) this.touch(hash);
    const cached = hitBlocks * blockTokens;
    this.queriedTokens += promptTokens;
    this.hitTokens += cached;
    this.recent.push([promptTokens, cached]);
    if (this.recent.length > RECENT_REQUESTS) this.recent.shift();
    return cached;
  }

  /** The hit rate of the last requests (SGLang's `cache_hit_rate` gauge is a recent rate, not a total); 0 before any. */
  recentHitRate(): number {
    let queried = 0;
    let hit = 0;
    for (const [q, h] of this.recent) {
      queried += q;
      hit += h;
    }
    return queried === 0 ? 0 : hit / queried;
  }

  private touch(hash: number): void {
    this.blocks.delete(hash);
    this.blocks.set(hash, true);
    if (this.blocks.size > this.settings.capacityBlocks) this.blocks.delete(this.blocks.keys().next().value!);
  }
}

/** FNV-1a over the block's characters, seeded with the previous block's hash. */
function blockHash(parent: number, text: string, from: number, to: number): number {
  let hash = parent;
  for (let i = from; i < to; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 16777619);
  return hash >>> 0;
}
