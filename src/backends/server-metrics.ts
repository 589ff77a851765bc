import { GAUGE_NAMES, type ServerGauges } from "./backend.ts";

/**
 * Every server's /metrics names for the common gauges and counters, recognised by what the server
 * serves, not by the backend that talks to it: llama-server benchmarked through the OpenAI
 * backends still shows its `llamacpp:` gauges, SGLang behind `/v1` its `sglang:` ones. The first
 * name of a list the server serves wins.
 */
export const SERVER_METRIC_NAMES: { readonly [K in (typeof GAUGE_NAMES)[number]]: readonly string[] } = {
  running: ["vllm:num_requests_running", "sglang:num_running_reqs", "llamacpp:requests_processing", "tgi_batch_current_size", "lightllm_batch_current_size"],
  waiting: ["vllm:num_requests_waiting", "sglang:num_queue_reqs", "llamacpp:requests_deferred", "tgi_queue_size", "lightllm_queue_size"],
  kv_cache_usage: ["vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc", "sglang:token_usage", "llamacpp:kv_cache_usage_ratio"],
  // a hit-rate gauge, for servers without the token counters: older vLLM (V0, a block hit rate), SGLang
  prefix_cache_hit_rate: ["vllm:gpu_prefix_cache_hit_rate", "sglang:cache_hit_rate"],
};

/**
 * Prefix-cache counters in tokens, as pairs (queried, hit) of one server: vLLM V1's
 * `prefix_cache_queries` / `prefix_cache_hits`, SGLang's prompt tokens / cached tokens (every
 * cache source summed). A pair counts only when the server serves both.
 */
export const PREFIX_CACHE_COUNTERS: ReadonlyArray<{ queried: string; hit: string }> = [
  { queried: "vllm:prefix_cache_queries_total", hit: "vllm:prefix_cache_hits_total" },
  { queried: "sglang:prompt_tokens_total", hit: "sglang:cached_tokens_total" },
];

/** The common gauges and counters a server's /metrics carries (parsed to name → value); null when none. */
export function serverMetricsOf(values: ReadonlyMap<string, number>): ServerGauges | null {
  const reading: ServerGauges = {};
  for (const gauge of GAUGE_NAMES) {
    const name = SERVER_METRIC_NAMES[gauge].find((candidate) => values.has(candidate));
    if (name !== undefined) reading[gauge] = values.get(name)!;
  }
  const counters = PREFIX_CACHE_COUNTERS.find((pair) => values.has(pair.queried) && values.has(pair.hit));
  if (counters) {
    reading.prefix_cache_queried_tokens = values.get(counters.queried)!;
    reading.prefix_cache_hit_tokens = values.get(counters.hit)!;
  }
  return Object.keys(reading).length > 0 ? reading : null;
}
