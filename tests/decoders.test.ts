import { describe, expect, test } from "bun:test";
import type { GenerationOutcome } from "../src/backends/backend.ts";
import { amsv2Decoder } from "../src/backends/amsv2.ts";
import { lightllmDecoder } from "../src/backends/lightllm.ts";
import { llamacppDecoder } from "../src/backends/llamacpp.ts";
import { openAiDecoder, readChatDelta, readCompletionChoice } from "../src/backends/openai-stream.ts";
import { pplDecoder, type PplBatchedResponse } from "../src/backends/ppl-messages.ts";
import { sglangDecoder } from "../src/backends/sglang.ts";
import { StreamState, type EventDecoder } from "../src/backends/stream-state.ts";
import { tgiDecoder } from "../src/backends/tgi.ts";
import { trtllmDecoder } from "../src/backends/trtllm.ts";
import { JsonLineParser } from "../src/backends/transport/json-lines.ts";

/** Hand-written event sequences through each protocol's decoder: [arrival, tokens, text] per reported event, and the outcome. */

type Call = [at: number, tokens: number, text: string];

/** Feeds payloads arriving at 10, 20, 30 … ms, ignoring those after the stream is over, as generateOverHttp does. */
function decode(factory: (state: StreamState) => EventDecoder, payloads: unknown[], closeIsComplete = false): { calls: Call[]; outcome: GenerationOutcome } {
  const calls: Call[] = [];
  const state = new StreamState((at, tokens, text) => calls.push([at, tokens, text]));
  const decoder = factory(state);
  payloads.forEach((payload, i) => {
    if (!state.over) decoder(typeof payload === "string" ? payload : JSON.stringify(payload), (i + 1) * 10);
  });
  return { calls, outcome: state.finish(closeIsComplete) };
}


describe("OpenAI chat", () => {
  const chat = (state: StreamState) => openAiDecoder(state, readChatDelta);
  const delta = (value: Record<string, unknown>, finish: string | null = null, usage: unknown = null) => ({
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: value, finish_reason: finish }],
    usage,
  });

  test("the empty role delta is not a token: the first token is the first content", () => {
    const { calls, outcome } = decode(chat, [
      delta({ role: "assistant", content: "" }),
      delta({ content: "Hello" }),
      delta({ content: " world" }, "length"),
      { object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } },
      "[DONE]",
    ]);
    expect(calls).toEqual([[20, 1, "Hello"], [30, 1, " world"]]);
    expect(outcome).toEqual({ error: null, serverOutTokens: 2, serverReasoningTokens: null, serverPromptTokens: 9, finishReason: "length", text: "Hello world" });
  });

  test("with usage in every chunk, the role delta counts 0 and content chunks count their usage growth", () => {
    const usage = (n: number) => ({ prompt_tokens: 4, completion_tokens: n, total_tokens: 4 + n });
    const { calls, outcome } = decode(chat, [
      delta({ role: "assistant", content: "" }, null, usage(0)),
      delta({ content: "a b c" }, null, usage(3)),
      delta({ content: " d" }, "length", usage(4)),
      "[DONE]",
    ]);
    expect(calls).toEqual([[20, 3, "a b c"], [30, 1, " d"]]);
    expect(outcome.serverOutTokens).toBe(4);
  });

  test("a role delta that also carries text (some servers) counts as the first token", () => {
    const { calls } = decode(chat, [delta({ role: "assistant", content: "Hi" }), delta({ content: "!" }, "stop"), "[DONE]"]);
    expect(calls).toEqual([[10, 1, "Hi"], [20, 1, "!"]]);
  });

  test("reasoning tokens are output tokens, but not the answer's text", () => {
    const { calls, outcome } = decode(chat, [
      delta({ role: "assistant", content: "" }),
      delta({ reasoning_content: "thinking" }),
      delta({ content: "Answer" }, "stop"),
      "[DONE]",
    ]);
    expect(calls).toEqual([[20, 1, ""], [30, 1, "Answer"]]);
    expect(outcome.text).toBe("Answer");
  });

  test("older LightLLM sends no [DONE]: a finish reason completes the answer; a stream cut before it fails", () => {
    const finished = decode(chat, [delta({ content: "x" }), delta({ content: "y" }, "length")]);
    expect(finished.outcome.error).toBeNull();
    expect(finished.outcome.finishReason).toBe("length");
    const cut = decode(chat, [delta({ content: "x" })]);
    expect(cut.outcome.error).toBe("stream ended before the answer was complete");
  });

  test("the usage chunk after the finish reason still counts", () => {
    const { outcome } = decode(chat, [
      delta({ content: "x" }, "length"),
      { object: "chat.completion.chunk", choices: [], usage: { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4 } },
      "[DONE]",
      { choices: [{ delta: { content: "after the end" } }] },
    ]);
    expect(outcome).toEqual({ error: null, serverOutTokens: 1, serverReasoningTokens: null, serverPromptTokens: 3, finishReason: "length", text: "x" });
  });
});

describe("OpenAI completions", () => {
  const completions = (state: StreamState) => openAiDecoder(state, readCompletionChoice);

  test("without per-chunk usage each chunk with text is one token; the final usage is the server's count", () => {
    const { calls, outcome } = decode(completions, [
      { choices: [{ text: " the", finish_reason: null }], usage: null },
      { choices: [{ text: " cat sat", finish_reason: "length" }], usage: null },
      { choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } },
      "[DONE]",
    ]);
    expect(calls).toEqual([[10, 1, " the"], [20, 1, " cat sat"]]);
    expect(outcome.serverOutTokens).toBe(3);
    expect(outcome.serverPromptTokens).toBe(5);
    expect(outcome.error).toBeNull();
  });

  test("error events in each shape servers use fail the request with their message", () => {
    const shapes: Array<[unknown, string]> = [
      [{ error: { message: "KV cache full", type: "InternalServerError", code: 500 } }, "server error: KV cache full"],
      [{ object: "error", message: "bad prompt", type: "BadRequestError", code: 400 }, "server error: bad prompt"],
      [{ error: "overloaded" }, "server error: overloaded"],
    ];
    for (const [event, reason] of shapes) {
      const { calls, outcome } = decode(completions, [{ choices: [{ text: "a" }] }, event, { choices: [{ text: "b" }] }, "[DONE]"]);
      expect(outcome.error).toBe(reason);
      expect(calls).toEqual([[10, 1, "a"]]); // nothing after the error counts
    }
  });

  test("an unparseable event fails the request, quoting it", () => {
    const { outcome } = decode(completions, ["{not json", "[DONE]"]);
    expect(outcome.error).toBe("unparseable stream event: {not json");
  });
});

describe("sglang", () => {
  const event = (text: string, completion: number | null, finish: unknown = null) => ({
    text,
    meta_info: { prompt_tokens: 7, ...(completion === null ? {} : { completion_tokens: completion }), finish_reason: finish },
  });

  test("cumulative text gives the new suffix; completion_tokens growth gives the tokens per event", () => {
    const { calls, outcome } = decode(sglangDecoder, [
      event("Hel", 1),
      event("Hello", 2),
      event("Hello", 3), // a token whose text is held back
      event("Hello wörld", 5, { type: "length", length: 5 }),
      "[DONE]",
    ]);
    expect(calls).toEqual([[10, 1, "Hel"], [20, 1, "lo"], [30, 1, ""], [40, 2, " wörld"]]);
    expect(outcome).toEqual({ error: null, serverOutTokens: 5, serverReasoningTokens: null, serverPromptTokens: 7, finishReason: "length", text: "Hello wörld" });
  });

  test("without completion_tokens each event with new text is one token", () => {
    const { calls, outcome } = decode(sglangDecoder, [event("a", null), event("ab", null), event("ab", null), event("abc", null, "stop"), "[DONE]"]);
    expect(calls).toEqual([[10, 1, "a"], [20, 1, "b"], [40, 1, "c"]]);
    expect(outcome.finishReason).toBe("stop");
  });

  test("a server streaming pieces (--stream-output) is read as pieces", () => {
    const { outcome } = decode(sglangDecoder, [event("The", 1), event(" cat", 2), event(" sat", 3, { type: "stop" }), "[DONE]"]);
    expect(outcome.text).toBe("The cat sat");
  });

  test("an error event fails the request", () => {
    const { outcome } = decode(sglangDecoder, [event("a", 1), { error: { message: "out of memory" } }, "[DONE]"]);
    expect(outcome.error).toBe("server error: out of memory");
  });
});

describe("ppl", () => {
  const feed = (messages: PplBatchedResponse[]) => {
    const calls: Call[] = [];
    const state = new StreamState((at, tokens, text) => calls.push([at, tokens, text]));
    const decoder = pplDecoder(state);
    messages.forEach((message, i) => {
      if (!state.over) decoder(message, (i + 1) * 10);
    });
    return { calls, outcome: state.finish() };
  };
  const response = (status: string, generated: string, extra: Record<string, unknown> = {}) => ({ rsp: [{ status, id: 1, generated, tokens: { ids: [1] }, ...extra }] });

  test("every PROCESSING or FINISHED message is one token, empty text included", () => {
    const { calls, outcome } = feed([
      response("PROCESSING", "caf"),
      response("PROCESSING", ""), // first half of "é" held back
      response("PROCESSING", "é"),
      response("FINISHED", "!", { detail: { finish_reason: "FINISH_REASON_LENGTH" } }),
    ]);
    expect(calls).toEqual([[10, 1, "caf"], [20, 1, ""], [30, 1, "é"], [40, 1, "!"]]);
    expect(outcome).toEqual({ error: null, serverOutTokens: null, serverReasoningTokens: null, serverPromptTokens: null, finishReason: "length", text: "café!" });
  });

  test("FAILED carries no token and fails the request; a stream without FINISHED is incomplete", () => {
    const failed = feed([response("PROCESSING", "a"), response("FAILED", "")]);
    expect(failed.calls).toEqual([[10, 1, "a"]]);
    expect(failed.outcome.error).toBe("server error: status FAILED");
    const cut = feed([response("PROCESSING", "a")]);
    expect(cut.outcome.error).toBe("stream ended before the answer was complete");
  });

  test("v1 responses have no detail: the finish reason is just 'finished'", () => {
    const { outcome } = feed([response("FINISHED", "x")]);
    expect(outcome.finishReason).toBe("finished");
  });
});

describe("lightllm", () => {
  const token = (text: string, count: number, finished = false, special = false) => ({
    token: { id: 1, text, logprob: -0.1, special, count_output_tokens: count, prompt_tokens: 6 },
    generated_text: null,
    finished,
    finish_reason: finished ? "length" : null,
    details: null,
  });

  test("one token per event, special tokens included without their text; finished ends the answer", () => {
    const { calls, outcome } = decode(lightllmDecoder, [token("A", 1), token("</s>", 2, false, true), token("B", 3, true)]);
    expect(calls).toEqual([[10, 1, "A"], [20, 1, ""], [30, 1, "B"]]);
    expect(outcome).toEqual({ error: null, serverOutTokens: 3, serverReasoningTokens: null, serverPromptTokens: 6, finishReason: "length", text: "AB" });
  });

  test("a stream that closes before finished is a failure", () => {
    expect(decode(lightllmDecoder, [token("A", 1)]).outcome.error).toBe("stream ended before the answer was complete");
  });
});

describe("tgi", () => {
  test("token per event; the last carries generated_text and details", () => {
    const { calls, outcome } = decode(tgiDecoder, [
      { index: 1, token: { id: 5, text: "Hi", special: false }, generated_text: null, details: null },
      { index: 2, token: { id: 2, text: "</s>", special: true }, generated_text: "Hi", details: { finish_reason: "eos_token", generated_tokens: 2, input_length: 4 } },
    ]);
    expect(calls).toEqual([[10, 1, "Hi"], [20, 1, ""]]);
    expect(outcome).toEqual({ error: null, serverOutTokens: 2, serverReasoningTokens: null, serverPromptTokens: 4, finishReason: "eos_token", text: "Hi" });
  });

  test("TGI's error event fails the request", () => {
    const { outcome } = decode(tgiDecoder, [{ error: "Request failed during generation: Server error: CUDA OOM", error_type: "generation" }]);
    expect(outcome.error).toBe("server error: Request failed during generation: Server error: CUDA OOM");
  });
});

describe("trtllm", () => {
  test("each text_output event is one token, empty ones too; a clean close completes it", () => {
    const { calls, outcome } = decode(
      trtllmDecoder,
      [{ model_name: "ensemble", text_output: " a" }, { model_name: "ensemble", text_output: "" }, { model_name: "ensemble", text_output: "é" }],
      true,
    );
    expect(calls).toEqual([[10, 1, " a"], [20, 1, ""], [30, 1, "é"]]);
    expect(outcome.error).toBeNull();
  });

  test("Triton's error event fails the request", () => {
    expect(decode(trtllmDecoder, [{ error: "in ensemble 'ensemble', executor failed" }], true).outcome.error).toBe(
      "server error: in ensemble 'ensemble', executor failed",
    );
  });
});

describe("llama.cpp", () => {
  test("tokens arrays give per-event counts; the final stop event carries tokens_predicted and no token", () => {
    const { calls, outcome } = decode(llamacppDecoder, [
      { content: "Hel", tokens: [10], stop: false },
      { content: "lo wo", tokens: [11, 12], stop: false },
      { content: "", tokens: [], stop: true, tokens_predicted: 3, tokens_evaluated: 8, stop_type: "limit" },
    ]);
    expect(calls).toEqual([[10, 1, "Hel"], [20, 2, "lo wo"]]);
    expect(outcome).toEqual({ error: null, serverOutTokens: 3, serverReasoningTokens: null, serverPromptTokens: 8, finishReason: "limit", text: "Hello wo" });
  });

  test("older servers: no tokens array (one token per content event) and stopped_* flags", () => {
    const { calls, outcome } = decode(llamacppDecoder, [
      { content: "a", stop: false },
      { content: "b", tokens: [], stop: false },
      { content: "", stop: true, tokens_predicted: 2, stopped_eos: true },
    ]);
    expect(calls).toEqual([[10, 1, "a"], [20, 1, "b"]]);
    expect(outcome.finishReason).toBe("eos");
  });

  test("an error event fails the request", () => {
    const { outcome } = decode(llamacppDecoder, [{ error: { code: 500, message: "context shift disabled", type: "server_error" } }]);
    expect(outcome.error).toBe("server error: context shift disabled");
  });
});

describe("amsv2 (lenient)", () => {
  test("pieces in generated_text, details at the end", () => {
    const { calls, outcome } = decode(
      amsv2Decoder,
      [
        { generated_text: "Hi", details: null },
        { generated_text: " there", details: { finish_reason: "length", generated_tokens: 2 } },
      ],
      true,
    );
    expect(calls).toEqual([[10, 1, "Hi"], [20, 1, " there"]]);
    expect(outcome).toMatchObject({ error: null, serverOutTokens: 2, finishReason: "length", text: "Hi there" });
  });

  test("a final event that repeats the whole answer adds no token", () => {
    const { calls, outcome } = decode(
      amsv2Decoder,
      [{ generated_text: "Hi" }, { generated_text: " there" }, { generated_text: "Hi there", details: { finish_reason: "length", generated_tokens: 2 } }],
      true,
    );
    expect(calls).toEqual([[10, 1, "Hi"], [20, 1, " there"]]);
    expect(outcome.text).toBe("Hi there");
  });

  test("TGI's own shape (token per event, whole text at the end) also reads right", () => {
    const { calls, outcome } = decode(
      amsv2Decoder,
      [
        { token: { text: "Hi" }, generated_text: null, details: null },
        { token: { text: "!" }, generated_text: "Hi!", details: { finish_reason: "length", generated_tokens: 2 } },
      ],
      true,
    );
    expect(calls).toEqual([[10, 1, "Hi"], [20, 1, "!"]]);
    expect(outcome.text).toBe("Hi!");
  });
});

describe("JsonLineParser (framing of uncertain streams)", () => {
  test("SSE with or without a space and blank lines, bare JSON lines, comments, and lines split across reads", () => {
    const parser = new JsonLineParser();
    const payloads = [
      ...parser.push('data: {"a":1}\n\ndata:{"a":2}\n'),
      ...parser.push(': ping\n{"a":3}\nevent: message\n{"a"'),
      ...parser.push(':4}\r\ndata: [DONE]'),
      ...parser.flush(),
    ];
    expect(payloads).toEqual(['{"a":1}', '{"a":2}', '{"a":3}', '{"a":4}', "[DONE]"]);
  });
});
