import { describe, expect, test } from "bun:test";
import type { GenerationOutcome, TokenListener } from "../src/backends/backend.ts";
import { llamacppDecoder } from "../src/backends/llamacpp.ts";
import { openAiDecoder, readChatDelta, readCompletionChoice } from "../src/backends/openai-stream.ts";
import { sglangDecoder } from "../src/backends/sglang.ts";
import { reasoningTokensOf, StreamState, thinkingShare, type EventDecoder } from "../src/backends/stream-state.ts";
import { answerAfterThinking, ThinkTagSplitter } from "../src/backends/think-tags.ts";

/**
 * Reasoning and tool-calling streams through the decoders, by hand-written chunks: every field that
 * carries generated output is a token event; thinking is counted apart from the answer.
 */

type Call = [at: number, tokens: number, text: string, thinkingTokens: number, thinkingText: string];

/** Feeds payloads arriving at 10, 20, 30 … ms, as generateOverHttp does; `wrap` puts a listener in between (--think-tags). */
function decode(
  factory: (state: StreamState) => EventDecoder,
  payloads: unknown[],
  wrap: (listener: TokenListener) => TokenListener = (listener) => listener,
): { calls: Call[]; outcome: GenerationOutcome; state: StreamState } {
  const calls: Call[] = [];
  const state = new StreamState(wrap((at, tokens, text, thinkingTokens, thinkingText) => calls.push([at, tokens, text, thinkingTokens, thinkingText])));
  const decoder = factory(state);
  payloads.forEach((payload, i) => {
    if (!state.over) decoder(typeof payload === "string" ? payload : JSON.stringify(payload), (i + 1) * 10);
  });
  return { calls, outcome: state.finish(), state };
}

const chat = (state: StreamState) => openAiDecoder(state, readChatDelta);
const chunk = (delta: Record<string, unknown> | null, finish: string | null = null, usage: unknown = null) => ({
  object: "chat.completion.chunk",
  choices: [{ index: 0, ...(delta === null ? {} : { delta }), finish_reason: finish }],
  usage,
});
const usage = (completion: number, extra: Record<string, unknown> = {}) => ({ prompt_tokens: 5, completion_tokens: completion, total_tokens: 5 + completion, ...extra });

describe("chat deltas: which fields are tokens", () => {
  // each delta alone after the role delta: [delta, is it a token, thinking?, content text]
  const CASES: Array<[name: string, delta: Record<string, unknown>, tokens: number, thinking: number, text: string]> = [
    ["content", { content: "Hi" }, 1, 0, "Hi"],
    ["reasoning (vLLM since Oct 2025)", { reasoning: "hmm" }, 1, 1, ""],
    ["reasoning_content (DeepSeek, SGLang, llama.cpp, older vLLM)", { reasoning_content: "hmm" }, 1, 1, ""],
    ["reasoning_content with SGLang's explicit nulls", { role: null, content: null, reasoning_content: "hmm", tool_calls: null }, 1, 1, ""],
    ["a tool call's first piece (id, name)", { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }, 1, 0, ""],
    ["a tool call's arguments piece", { tool_calls: [{ index: 0, function: { arguments: "{\"city\":" } }] }, 1, 0, ""],
    ["a legacy function_call", { function_call: { arguments: "{}" } }, 1, 0, ""],
    ["refusal", { refusal: "I can't" }, 1, 0, ""],
    ["an unknown future field carrying a string", { thinking_summary: "x" }, 1, 0, ""],
    ["role only", { role: "assistant" }, 0, 0, ""],
    ["empty content", { content: "" }, 0, 0, ""],
    ["nulls only", { content: null, reasoning: null, reasoning_content: null, tool_calls: null }, 0, 0, ""],
    ["an empty delta", {}, 0, 0, ""],
    ["a tool call without name or arguments text", { tool_calls: [{ index: 0, id: "call_1", type: "function", function: { arguments: "" } }] }, 0, 0, ""],
    ["metadata strings (role, name, id, type, index, status)", { role: "assistant", name: "bot", id: "x", type: "text", status: "ok" }, 0, 0, ""],
  ];
  for (const [name, delta, tokens, thinking, text] of CASES) {
    test(`${name}: ${tokens === 0 ? "no token" : thinking ? "a thinking token" : "an answer token"}`, () => {
      const { calls, state } = decode(chat, [chunk({ role: "assistant", content: "" }), chunk(delta), chunk({ content: "!" }, "stop"), "[DONE]"]);
      const expected: Call[] = tokens === 0 ? [] : [[20, tokens, text, thinking, thinking ? "hmm" : ""]];
      expect(calls).toEqual([...expected, [30, 1, "!", 0, ""]]);
      expect(state.counted).toBe(tokens + 1);
    });
  }
});

describe("chat streams of reasoning models", () => {
  test("the issue's stream: thinking then content, one token per chunk, no usage per chunk; the answer's text is its content", () => {
    const payloads: unknown[] = [chunk({ role: "assistant", content: "" })];
    for (let i = 0; i < 4; i++) payloads.push(chunk({ reasoning: ` t${i}` }));
    payloads.push(chunk({ content: "A" }), chunk({ content: "B" }, "length"), { object: "chat.completion.chunk", choices: [], usage: usage(6) }, "[DONE]");
    const { calls, outcome, state } = decode(chat, payloads);
    expect(calls.map(([at, n, , thinking]) => [at, n, thinking])).toEqual([[20, 1, 1], [30, 1, 1], [40, 1, 1], [50, 1, 1], [60, 1, 0], [70, 1, 0]]);
    expect(state.thinkingCounted).toBe(4);
    expect(outcome.text).toBe("AB");
    expect(outcome.serverOutTokens).toBe(6);
    expect(outcome.serverReasoningTokens).toBeNull();
  });

  test("with usage in every chunk, the thinking tokens count their usage growth too", () => {
    const { calls } = decode(chat, [
      chunk({ role: "assistant", content: "" }, null, usage(0)),
      chunk({ reasoning: " a b" }, null, usage(2)),
      chunk({ content: "x y z" }, "length", usage(5)),
      "[DONE]",
    ]);
    expect(calls).toEqual([[20, 2, "", 2, " a b"], [30, 3, "x y z", 0, ""]]);
  });

  test("a server sending both names during the rename (same text) counts the thinking once", () => {
    const { calls } = decode(chat, [chunk({ reasoning: "abc", reasoning_content: "abc" }), chunk({ content: "x" }, "stop"), "[DONE]"]);
    expect(calls[0]).toEqual([10, 1, "", 1, "abc"]);
  });

  test("a chunk with thinking and content: the server's per-chunk reasoning count splits it where given", () => {
    const { calls } = decode(chat, [
      chunk({ reasoning_content: "abc" }, null, usage(3, { completion_tokens_details: { reasoning_tokens: 3 } })),
      chunk({ reasoning_content: "d", content: "xyz" }, null, usage(7, { completion_tokens_details: { reasoning_tokens: 4 } })),
      chunk({ content: "!" }, "stop", usage(8, { completion_tokens_details: { reasoning_tokens: 4 } })),
      "[DONE]",
    ]);
    expect(calls.map(([, n, , thinking]) => [n, thinking])).toEqual([[3, 3], [4, 1], [1, 0]]);
  });

  test("a chunk with thinking and content and no per-chunk reasoning count: split by characters", () => {
    // 4 tokens, 6 thinking characters of 8: round(4 × 6 / 8) = 3 thinking, 1 answer
    const { calls } = decode(chat, [chunk({ reasoning: "abcdef", content: "xy" }, null, usage(4)), chunk({ content: "!" }, "stop", usage(5)), "[DONE]"]);
    expect(calls[0]).toEqual([10, 4, "xy", 3, "abcdef"]);
  });

  test("SGLang's per-chunk reasoning_tokens of 0 (not counted) does not hide the thinking", () => {
    const { calls } = decode(chat, [
      chunk({ reasoning_content: "abc" }, null, usage(1, { reasoning_tokens: 0 })),
      chunk({ content: "x" }, "stop", usage(2, { reasoning_tokens: 0 })),
      "[DONE]",
    ]);
    expect(calls.map(([, n, , thinking]) => [n, thinking])).toEqual([[1, 1], [1, 0]]);
  });

  test("the final usage's reasoning count is the server's (completion_tokens_details or SGLang's reasoning_tokens)", () => {
    const details = decode(chat, [chunk({ reasoning: "a" }), chunk({ content: "x" }, "stop"), { choices: [], usage: usage(2, { completion_tokens_details: { reasoning_tokens: 1 } }) }, "[DONE]"]);
    expect(details.outcome.serverReasoningTokens).toBe(1);
    const flat = decode(chat, [chunk({ reasoning: "a" }), chunk({ content: "x" }, "stop"), { choices: [], usage: usage(2, { reasoning_tokens: 1 }) }, "[DONE]"]);
    expect(flat.outcome.serverReasoningTokens).toBe(1);
  });

  test("tool calls: the name and arguments pieces are answer tokens, not the answer's content", () => {
    const { calls, outcome } = decode(chat, [
      chunk({ role: "assistant", content: "" }),
      chunk({ reasoning: "need weather" }),
      chunk({ tool_calls: [{ index: 0, id: "call_1", type: "function", function: { name: "get_weather", arguments: "" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: "{\"city\":" } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: " \"Paris\"}" } }] }, "tool_calls"),
      "[DONE]",
    ]);
    expect(calls).toEqual([[20, 1, "", 1, "need weather"], [30, 1, "", 0, ""], [40, 1, "", 0, ""], [50, 1, "", 0, ""]]);
    expect(outcome.text).toBe("");
    expect(outcome.finishReason).toBe("tool_calls");
  });
});

describe("other backends' thinking", () => {
  test("llama.cpp's native reasoning_content is thinking; content is the answer", () => {
    const { calls, outcome } = decode(llamacppDecoder, [
      { content: "", reasoning_content: " hmm", tokens: [11], stop: false },
      { content: "Hi", tokens: [12], stop: false },
      { content: "", tokens: [], stop: true, tokens_predicted: 2, tokens_evaluated: 4, stop_type: "limit" },
    ]);
    expect(calls).toEqual([[10, 1, "", 1, " hmm"], [20, 1, "Hi", 0, ""]]);
    expect(outcome.text).toBe("Hi");
  });

  test("completions: text only (stop_reason and other strings of the choice are not output)", () => {
    const { calls } = decode((state) => openAiDecoder(state, readCompletionChoice), [
      { choices: [{ index: 0, text: "", stop_reason: "</s>", finish_reason: null }] },
      { choices: [{ index: 0, text: "a", finish_reason: "length" }] },
      "[DONE]",
    ]);
    expect(calls).toEqual([[20, 1, "a", 0, ""]]);
  });
});

describe("--think-tags: <think>…</think> inside the content", () => {
  const tags = (listener: TokenListener) => new ThinkTagSplitter(listener).listener;

  test("one token per event: thinking up to and with </think>, the answer after it", () => {
    const { calls, outcome } = decode(
      (state) => openAiDecoder(state, readCompletionChoice),
      ["<think>", " hmm", "</think>", "\n\nHi", " there"].map((text, i) => ({ choices: [{ index: 0, text, finish_reason: i === 4 ? "length" : null }] })).concat(["[DONE]" as never]),
      tags,
    );
    expect(calls).toEqual([
      [10, 1, "", 1, "<think>"],
      [20, 1, "", 1, " hmm"],
      [30, 1, "", 1, "</think>"],
      [40, 1, "\n\nHi", 0, ""],
      [50, 1, " there", 0, ""],
    ]);
    // the decoder keeps the raw content; the wrapper gives a later turn only what follows the thinking
    expect(answerAfterThinking(outcome.text)).toBe("\n\nHi there");
  });

  test("the close tag inside a multi-token event splits it by characters; no opening tag (DeepSeek-R1's template) is thinking from the start", () => {
    const { calls } = decode(
      sglangDecoder,
      [
        { text: "a b", meta_info: { completion_tokens: 2 } },
        { text: "a b c</think>xyzw", meta_info: { completion_tokens: 5 } },
        { text: "a b c</think>xyzw!", meta_info: { completion_tokens: 6, finish_reason: "length" } },
        "[DONE]",
      ],
      tags,
    );
    // " c</think>" is 10 characters of 14: round(3 × 10 / 14) = 2 thinking, 1 answer
    expect(calls).toEqual([[10, 2, "", 2, "a b"], [20, 3, "xyzw", 2, " c</think>"], [30, 1, "!", 0, ""]]);
  });

  test("a server that streams the thinking in its own field needs no tags: --think-tags leaves its content the answer", () => {
    const payloads = [chunk({ reasoning: "hmm" }), chunk({ content: "Hi" }), chunk({ content: "!" }, "stop"), "[DONE]"];
    const split: ThinkTagSplitter[] = [];
    const { calls } = decode(chat, payloads, (listener) => {
      split.push(new ThinkTagSplitter(listener));
      return split[0]!.listener;
    });
    expect(calls).toEqual([[10, 1, "", 1, "hmm"], [20, 1, "Hi", 0, ""], [30, 1, "!", 0, ""]]);
    expect(split[0]!.serverSeparates).toBe(true);
  });

  test("Kimi K2's ◁/think▷ closes the thinking too", () => {
    const { calls, outcome } = decode(
      (state) => openAiDecoder(state, readCompletionChoice),
      [{ choices: [{ index: 0, text: "\u25c1think\u25b7 hmm" }] }, { choices: [{ index: 0, text: "\u25c1/think\u25b7" }] }, { choices: [{ index: 0, text: "Hi", finish_reason: "length" }] }, "[DONE]"],
      tags,
    );
    expect(calls.map(([, n, text, thinking]) => [n, text, thinking])).toEqual([[1, "", 1], [1, "", 1], [1, "Hi", 0]]);
    expect(answerAfterThinking(outcome.text)).toBe("Hi");
  });

  test("an answer whose thinking never closed is all thinking and gives a later turn nothing", () => {
    const { calls, outcome } = decode(llamacppDecoder, [{ content: "<think> a", tokens: [1, 2] }, { content: "", tokens: [3] }, { content: "", tokens: [], stop: true, tokens_predicted: 3 }], tags);
    expect(calls).toEqual([[10, 2, "", 2, "<think> a"], [20, 1, "", 1, ""]]);
    expect(answerAfterThinking(outcome.text)).toBe("");
  });
});

describe("helpers", () => {
  test("thinkingShare: by characters, one each at least from two tokens on, a one-token event is the answer's", () => {
    expect(thinkingShare(1, 5, 0)).toBe(1);
    expect(thinkingShare(1, 5, 5)).toBe(0);
    expect(thinkingShare(3, 0, 5)).toBe(0);
    expect(thinkingShare(4, 6, 2)).toBe(3);
    expect(thinkingShare(2, 100, 1)).toBe(1);
    expect(thinkingShare(2, 1, 100)).toBe(1);
    expect(thinkingShare(0, 3, 3)).toBe(0);
  });

  test("reasoningTokensOf reads completion_tokens_details.reasoning_tokens, else reasoning_tokens", () => {
    expect(reasoningTokensOf({ completion_tokens_details: { reasoning_tokens: 7 } })).toBe(7);
    expect(reasoningTokensOf({ reasoning_tokens: 3 })).toBe(3);
    expect(reasoningTokensOf({ completion_tokens_details: null, completion_tokens: 4 })).toBeNull();
    expect(reasoningTokensOf(null)).toBeNull();
  });
});
