import { describe, expect, test } from "bun:test";
import { llamacppDecoder } from "../src/backends/llamacpp.ts";
import { openAiDecoder, readChatDelta } from "../src/backends/openai-stream.ts";
import { serverMetricsOf } from "../src/backends/server-metrics.ts";
import { sglangDecoder } from "../src/backends/sglang.ts";
import { StreamState, type EventDecoder } from "../src/backends/stream-state.ts";
import { parsePrometheusText } from "../src/backends/transport/prometheus.ts";
import { prefixCacheDelta } from "../src/metrics/prefix-cache.ts";
import { summarize } from "../src/metrics/summarize.ts";
import { PrefixCache } from "../src/mock/prefix-cache.ts";
import { summaryRow } from "../src/report/seed-columns.ts";

/** A prompt of `tokens` simulated tokens (four characters each), made of `seed`'s characters. */
const text = (tokens: number, seed = "a") => seed.repeat(tokens * 4).slice(0, tokens * 4);

describe("the simulator's prefix cache", () => {
  test("blocks of 16 tokens: a repeat hits its full blocks, a whole-prompt hit recomputes its last block", () => {
    const cache = new PrefixCache({ blockTokens: 16, capacityBlocks: 100 });
    expect(cache.admit(text(100), 100)).toBe(0); // cold
    expect(cache.admit(text(100), 100)).toBe(96); // 6 full blocks; the 4 tokens after them are computed
    // a 64-token prompt is 4 full blocks, all cached by the 100-token one: the last is given back
    expect(cache.admit(text(64), 64)).toBe(48);
    expect(cache.queriedTokens).toBe(264);
    expect(cache.hitTokens).toBe(144);
  });

  test("a block matches only after the same prefix (hashes chain); a shared head hits up to where the prompts part", () => {
    const cache = new PrefixCache({ blockTokens: 16, capacityBlocks: 100 });
    const head = text(50, "s"); // 3 full blocks and 2 tokens
    cache.admit(head + text(30, "x"), 80);
    expect(cache.admit(head + text(30, "y"), 80)).toBe(48); // blocks 0-2 are the head's; block 3 differs
    // the same tail after another head: nothing matches, though block 3+ hold the same characters
    cache.admit(text(64, "p") + text(64, "q"), 128);
    expect(cache.admit(text(64, "r") + text(64, "q"), 128)).toBe(0);
  });

  test("least recently used blocks go first when the cache is full", () => {
    const cache = new PrefixCache({ blockTokens: 16, capacityBlocks: 4 });
    cache.admit(text(65, "a"), 65); // 4 blocks
    expect(cache.admit(text(65, "a"), 65)).toBe(64); // touched again
    cache.admit(text(33, "b"), 33); // 2 more blocks: a's two oldest go
    expect(cache.admit(text(65, "a"), 65)).toBe(0); // its first block is gone, so nothing after it matches
  });

  test("the SGLang-style gauge is the hit rate of the recent requests", () => {
    const cache = new PrefixCache({ blockTokens: 16, capacityBlocks: 100 });
    expect(cache.recentHitRate()).toBe(0);
    cache.admit(text(40), 40);
    cache.admit(text(40), 40); // 32 of 40
    expect(cache.recentHitRate()).toBeCloseTo(32 / 80, 12);
  });
});

describe("the prefix-cache counters' growth over a point", () => {
  test("hits over queries, in tokens; null without counters, after a restart, or with nothing queried", () => {
    const before = { prefix_cache_queried_tokens: 1000, prefix_cache_hit_tokens: 250 };
    expect(prefixCacheDelta(before, { prefix_cache_queried_tokens: 1800, prefix_cache_hit_tokens: 850 })).toEqual({ queried_tokens: 800, hit_tokens: 600, hit_rate: 0.75 });
    expect(prefixCacheDelta(before, before)).toEqual({ queried_tokens: 0, hit_tokens: 0, hit_rate: null });
    expect(prefixCacheDelta(before, { prefix_cache_queried_tokens: 10, prefix_cache_hit_tokens: 0 })).toBeNull();
    expect(prefixCacheDelta(null, before)).toBeNull();
    expect(prefixCacheDelta({ prefix_cache_queried_tokens: 5 }, before)).toBeNull();
  });

  test("the row's hit rate is the counters' when there are any, else the gauge's mean", () => {
    const summary = summarize([]);
    const labels = { modelSize: "7", tp: 1, numClients: 1, mode: "fp16" };
    const gauge = { prefix_cache_hit_rate: { mean: 0.4, min: 0.2, max: 0.6, samples: 3 } };
    expect(summaryRow(summary, labels, null, gauge, [], [], { queried_tokens: 10, hit_tokens: 9, hit_rate: 0.9 }).prefix_cache_hit_rate).toBe(0.9);
    expect(summaryRow(summary, labels, null, gauge, [], [], null).prefix_cache_hit_rate).toBe(0.4);
    expect(summaryRow(summary, labels).prefix_cache_hit_rate).toBeNull();
    expect(summaryRow(summary, labels).total_cached_tokens).toBeNull();
  });
});

describe("one /metrics reader for every server", () => {
  const read = (lines: string[]) => serverMetricsOf(parsePrometheusText(lines.join("\n")));

  test("vLLM V1: load gauges and the prefix-cache token counters, summed over engines", () => {
    expect(
      read([
        "# TYPE vllm:num_requests_running gauge",
        'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
        'vllm:num_requests_waiting{engine="0",model_name="m"} 1.0',
        'vllm:kv_cache_usage_perc{engine="0",model_name="m"} 0.25',
        "# TYPE vllm:prefix_cache_queries_total counter",
        'vllm:prefix_cache_queries_total{engine="0",model_name="m"} 1000.0',
        'vllm:prefix_cache_queries_total{engine="1",model_name="m"} 500.0',
        'vllm:prefix_cache_hits_total{engine="0",model_name="m"} 600.0',
        'vllm:prefix_cache_hits_total{engine="1",model_name="m"} 150.0',
      ]),
    ).toEqual({ running: 3, waiting: 1, kv_cache_usage: 0.25, prefix_cache_queried_tokens: 1500, prefix_cache_hit_tokens: 750 });
  });

  test("SGLang: its gauges, its hit-rate gauge, prompt and cached token counters (cache sources summed)", () => {
    expect(
      read([
        'sglang:num_running_reqs{model_name="m"} 2',
        'sglang:num_queue_reqs{model_name="m"} 0',
        'sglang:token_usage{model_name="m"} 0.5',
        'sglang:cache_hit_rate{model_name="m"} 0.3',
        'sglang:prompt_tokens_total{model_name="m"} 400',
        'sglang:cached_tokens_total{model_name="m",cache_source="device"} 100',
        'sglang:cached_tokens_total{model_name="m",cache_source="host"} 20',
      ]),
    ).toEqual({ running: 2, waiting: 0, kv_cache_usage: 0.5, prefix_cache_hit_rate: 0.3, prefix_cache_queried_tokens: 400, prefix_cache_hit_tokens: 120 });
    // an older SGLang without the cached-token counter: the gauge only, no half pair
    expect(read(['sglang:cache_hit_rate{model_name="m"} 0.3', 'sglang:prompt_tokens_total{model_name="m"} 400'])).toEqual({ prefix_cache_hit_rate: 0.3 });
  });

  test("llama-server, TGI, LightLLM and older vLLM by their own names, whichever backend asks", () => {
    expect(read(["llamacpp:requests_processing 1", "llamacpp:requests_deferred 4", "llamacpp:kv_cache_usage_ratio 0.125"])).toEqual({ running: 1, waiting: 4, kv_cache_usage: 0.125 });
    expect(read(["tgi_batch_current_size 5", "tgi_queue_size 2"])).toEqual({ running: 5, waiting: 2 });
    expect(read(["lightllm_batch_current_size 7", "lightllm_queue_size 3"])).toEqual({ running: 7, waiting: 3 });
    expect(read(['vllm:gpu_cache_usage_perc{model_name="m"} 0.5', 'vllm:gpu_prefix_cache_hit_rate{model_name="m"} 0.8'])).toEqual({ kv_cache_usage: 0.5, prefix_cache_hit_rate: 0.8 });
    expect(read(["process_cpu_seconds_total 12", "python_gc_objects_collected_total 3"])).toBeNull();
  });
});

describe("cached prompt tokens as each server's stream reports them", () => {
  const outcomeOf = (factory: (state: StreamState) => EventDecoder, payloads: unknown[]) => {
    const state = new StreamState(() => {});
    const decoder = factory(state);
    payloads.forEach((payload, i) => decoder(typeof payload === "string" ? payload : JSON.stringify(payload), (i + 1) * 10));
    return state.finish();
  };
  const chat = (state: StreamState) => openAiDecoder(state, readChatDelta);

  test("vLLM: usage.prompt_tokens_details.cached_tokens; absent when usage has no details", () => {
    const chunk = (content: string, finish: string | null, usage: unknown) => ({ choices: [{ index: 0, delta: { content }, finish_reason: finish }], usage });
    const usage = { prompt_tokens: 100, completion_tokens: 2, total_tokens: 102, prompt_tokens_details: { cached_tokens: 96 } };
    expect(outcomeOf(chat, [chunk("a", null, null), chunk("b", "length", null), { choices: [], usage }, "[DONE]"]).serverCachedTokens).toBe(96);
    const plain = outcomeOf(chat, [chunk("a", "length", null), { choices: [], usage: { prompt_tokens: 100, completion_tokens: 1, prompt_tokens_details: null } }, "[DONE]"]);
    expect(plain.serverCachedTokens).toBeUndefined();
  });

  test("SGLang: meta_info.cached_tokens of the finishing event; llama.cpp: timings.cache_n of the stop event", () => {
    const sglang = outcomeOf(sglangDecoder, [
      { text: "a", meta_info: { prompt_tokens: 50, completion_tokens: 1, cached_tokens: 48, finish_reason: null } },
      { text: "ab", meta_info: { prompt_tokens: 50, completion_tokens: 2, cached_tokens: 48, finish_reason: { type: "length" } } },
      "[DONE]",
    ]);
    expect(sglang.serverCachedTokens).toBe(48);
    const llamacpp = outcomeOf(llamacppDecoder, [
      { content: "a", tokens: [1], stop: false },
      { content: "", tokens: [], stop: true, tokens_predicted: 1, tokens_evaluated: 40, stop_type: "limit", timings: { cache_n: 32, prompt_n: 8 } },
    ]);
    expect(llamacpp.serverCachedTokens).toBe(32);
  });
});
