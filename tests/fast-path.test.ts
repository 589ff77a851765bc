import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import "../src/backends/registry.ts";
import { HTTP_SPECS, type HttpBackendSpec } from "../src/backends/http-generation.ts";
import { fastOpenAiDecoder } from "../src/backends/openai-fast.ts";
import { openAiDecoder, readChatDelta, readCompletionChoice } from "../src/backends/openai-stream.ts";
import { StreamState, type EventDecoder } from "../src/backends/stream-state.ts";
import type { EventParser } from "../src/backends/transport/event-stream.ts";
import { FastSseParser } from "../src/backends/transport/sse-fast.ts";
import { SseParser } from "../src/backends/transport/sse.ts";
import { seededRandom } from "../src/dataset/prng.ts";
import { startMock, type MockHandle } from "./helpers/cli.ts";

/**
 * The differential test of the per-token fast path: the same recorded byte streams — every HTTP
 * protocol the simulator speaks, plain, reasoning, tool calls, usage only at the end, several
 * tokens per event, mid-stream errors and stream faults, plus hand-made edge cases — split at
 * seeded random byte boundaries, go through the fast path (FastSseParser, the fast OpenAI
 * decoder) and through the reference (SseParser, the JSON.parse decoders). Every token call
 * (time, count, text, thinking), the outcome (counts, finish reason, error, text, id) must agree.
 */

const PROTOCOLS = ["vllm", "openai-chat", "lightllm", "sglang", "tgi", "trtllm", "llamacpp", "amsv2"] as const;
const SCENARIOS: Record<string, string[]> = {
  plain: [],
  reasoning: ["--reasoning-tokens", "3"],
  "reasoning-content": ["--reasoning-tokens", "3", "--reasoning-field", "reasoning_content"],
  "think-tags": ["--reasoning-tokens", "3", "--reasoning-field", "think-tags"],
  "tool-calls": ["--tool-call-tokens", "3"],
  "final-usage": ["--no-chunk-usage"],
  "tokens-per-event": ["--tokens-per-event", "3"],
  "error-after-3": ["--fail-after-tokens", "3"],
  malformed: ["--faults", "malformed:1"],
  "no-done": ["--faults", "no-done:1"],
  "error-event": ["--faults", "error-event:1"],
};
const SPLITS_PER_STREAM = 12;

interface Run {
  calls: unknown[];
  outcome: unknown;
}

/** Feeds `pieces` (piece k arrives at time k) through a parser and a decoder, as event-stream.ts does. */
function replay(pieces: string[], parser: EventParser, useFeed: boolean, decoderOf: (state: StreamState) => EventDecoder, closeIsComplete?: boolean): Run {
  const calls: unknown[] = [];
  const state = new StreamState((at, tokens, text, thinking, thinkingText) => calls.push([at, tokens, text, thinking, thinkingText]));
  const decode = decoderOf(state);
  const deliver = (payload: string, at: number) => {
    if (!state.over) decode(payload, at);
  };
  pieces.forEach((piece, at) => {
    if (useFeed && parser.feed) parser.feed(piece, { event: (payload) => deliver(payload, at) });
    else for (const payload of parser.push(piece)) deliver(payload, at);
  });
  for (const payload of parser.flush()) deliver(payload, pieces.length);
  return { calls, outcome: { ...state.finish(closeIsComplete) } };
}

/** The bytes cut at random places (a UTF-8 character may be cut too) and decoded as a stream. */
function split(bytes: Uint8Array, seed: number): string[] {
  const random = seededRandom(seed, bytes.length, 0x5e55);
  const decoder = new TextDecoder();
  const pieces: string[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(random() * (random() < 0.5 ? 8 : 300));
    pieces.push(decoder.decode(bytes.subarray(at, at + size), { stream: true }));
    at += size;
  }
  pieces.push(decoder.decode());
  return pieces;
}

function compare(spec: HttpBackendSpec, bytes: Uint8Array): { reference: Run; fallbacks: number; events: number } {
  const whole = [new TextDecoder().decode(bytes)];
  const reference = replay(whole, spec.parser?.() ?? new SseParser(), false, spec.referenceDecoder ?? spec.decoder, spec.closeIsComplete);
  let fallbacks = 0;
  let events = 0;
  for (let seed = 0; seed < SPLITS_PER_STREAM; seed++) {
    const pieces = split(bytes, seed);
    const slow = replay(pieces, spec.parser?.() ?? new SseParser(), false, spec.referenceDecoder ?? spec.decoder, spec.closeIsComplete);
    const fastDecoder = (state: StreamState): EventDecoder => {
      if (!spec.referenceDecoder) return spec.decoder(state);
      const ref = spec.referenceDecoder(state);
      return fastOpenAiDecoder(state, spec.name === "vllm" ? "completions" : "chat", (payload, at) => {
        fallbacks++;
        ref(payload, at);
      });
    };
    const fast = replay(pieces, spec.parser?.() ?? new FastSseParser(), true, (state) => {
      const decode = fastDecoder(state);
      return (payload, at) => {
        events++;
        decode(payload, at);
      };
    }, spec.closeIsComplete);
    expect(fast).toEqual(slow);
    // same tokens, finish reason, error and text as the unsplit stream (times differ with the cuts)
    expect(fast.outcome).toEqual(reference.outcome);
    expect(fast.calls.map((call) => (call as unknown[]).slice(1))).toEqual(reference.calls.map((call) => (call as unknown[]).slice(1)));
  }
  return { reference, fallbacks, events };
}

async function record(url: string, spec: HttpBackendSpec): Promise<Uint8Array> {
  const options = { baseUrl: url, model: "mock-model", apiKey: null, insecure: false };
  const body = spec.body({ id: 7, messages: [{ role: "user", content: "Tell me about ünïcödé — and \"quotes\"\n" }], outputLen: 9 }, options);
  const response = await fetch(`${url}${spec.path}`, { method: "POST", headers: { "content-type": "application/json", accept: "text/event-stream" }, body: JSON.stringify(body) });
  return new Uint8Array(await response.arrayBuffer());
}

describe("fast path and reference agree on every recorded stream, cut anywhere", () => {
  const mocks = new Map<string, MockHandle>();
  beforeAll(async () => {
    for (const [name, args] of Object.entries(SCENARIOS)) {
      mocks.set(name, await startMock(["--protocol", PROTOCOLS.join(","), "--ttft-ms", "1", "--itl-ms", "1", "--ignore-eos", ...args]));
    }
  }, 60_000);
  afterAll(async () => {
    for (const mock of mocks.values()) await mock.stop();
  });

  for (const scenario of Object.keys(SCENARIOS)) {
    test(`${scenario}: every protocol`, async () => {
      const mock = mocks.get(scenario)!;
      for (const protocol of PROTOCOLS) {
        const spec = HTTP_SPECS.get(protocol === "vllm" ? "vllm" : protocol)!;
        expect(spec).toBeDefined();
        const bytes = await record(mock.urls[protocol]!, spec);
        expect(bytes.length).toBeGreaterThan(0);
        const { reference, fallbacks, events } = compare(spec, bytes);
        const outcome = reference.outcome as { error: string | null; serverOutTokens: number | null };
        if (scenario === "plain" || scenario === "final-usage" || scenario === "tokens-per-event") {
          expect(outcome.error).toBeNull();
          expect(reference.calls.length).toBeGreaterThan(0);
          // the fast path really ran: most OpenAI events never reached JSON.parse
          if (spec.referenceDecoder && scenario !== "tokens-per-event") expect(fallbacks).toBeLessThan(events / 2);
        }
        if (scenario === "error-after-3" || scenario === "malformed" || scenario === "error-event") {
          expect(outcome.error).not.toBeNull();
        }
      }
    }, 60_000);
  }
});

describe("hand-made OpenAI streams: escapes, multi-byte text, CRLF, comments, and what the fast path must refuse", () => {
  const completions = HTTP_SPECS.get("vllm")!;
  const event = (text: string, usage = `{"prompt_tokens":3,"total_tokens":4,"completion_tokens":1}`) =>
    `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":${text},"logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":${usage}}\n\n`;
  const cases: Record<string, string> = {
    escapes: event(`"a\\"b\\\\c\\n\\u00e9"`) + event(`"→ ünï 🎉"`, `{"prompt_tokens":3,"total_tokens":5,"completion_tokens":2}`) + "data: [DONE]\n\n",
    crlfAndComments: (": ping\r\n\r\n" + event(`"x"`).replace(/\n/g, "\r\n") + "data: [DONE]\r\n\r\n"),
    usageDetails: event(`"x"`, `{"prompt_tokens":3,"total_tokens":4,"completion_tokens":1,"completion_tokens_details":{"reasoning_tokens":1}}`) + "data: [DONE]\n\n",
    leadingZero: event(`"x"`, `{"prompt_tokens":03,"total_tokens":4,"completion_tokens":1}`),
    rawControl: event(`"a\tb"`) + "data: [DONE]\n\n",
    badEscape: event(`"a\\qb"`) + "data: [DONE]\n\n",
    usageNull: event(`"x"`, "null") + event(`""`, "null") + "data: [DONE]\n\n",
    otherKeyOrder: `data: {"object":"text_completion","id":"cmpl-2","created":1,"model":"m","choices":[{"index":0,"text":"y","finish_reason":null}]}\n\n` + "data: [DONE]\n\n",
    finishReason: event(`"x"`).replace('"finish_reason":null', '"finish_reason":"length"') + "data: [DONE]\n\n",
    multiLineData: `data: {"id":"cmpl-3","object":"text_completion","created":1,"model":"m",\ndata: "choices":[{"index":0,"text":"z"}]}\n\ndata: [DONE]\n\n`,
  };
  // The template learned from a request's first event, then a later event that differs from it in one way.
  const counts = (k: number) => `{"prompt_tokens":3,"total_tokens":${3 + k},"completion_tokens":${k}}`;
  const normal = (k: number) => event(`" tok${k}"`, counts(k));
  const after = (deviant: string) => normal(1) + normal(2) + normal(3) + deviant + normal(5) + normal(6) + "data: [DONE]\n\n";
  const later: Record<string, string> = {
    escapes: event(`"a\\n\\"b\\u00e9\\\\"`, counts(4)),
    escapedQuoteAtEnd: event(`"x\\""`, counts(4)),
    badEscape: event(`"a\\qb"`, counts(4)),
    rawControl: event(`"a\tb"`, counts(4)),
    rawNewlineAfterBackslash: event(`"a\\\u2028b"`, counts(4)),
    otherId: event(`"x"`, counts(4)).replace("cmpl-1", "cmpl-2"),
    leadingZero: event(`"x"`, `{"prompt_tokens":3,"total_tokens":7,"completion_tokens":04}`),
    zero: event(`"x"`, `{"prompt_tokens":3,"total_tokens":3,"completion_tokens":0}`),
    swappedOrder: event(`"x"`, `{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}`),
    usageNull: event(`"x"`, "null"),
    usageAbsent: event(`"x"`, counts(4)).replace(`,"usage":${counts(4)}`, ""),
    otherPrompt: event(`"x"`, `{"prompt_tokens":9,"total_tokens":13,"completion_tokens":4}`),
    hugeCount: event(`"x"`, `{"prompt_tokens":3,"total_tokens":7,"completion_tokens":12345678901234567890}`),
    usageDetails: event(`"x"`, `{"prompt_tokens":3,"total_tokens":7,"completion_tokens":4,"completion_tokens_details":{"reasoning_tokens":1}}`),
    finishReason: event(`"x"`, counts(4)).replace('"finish_reason":null', '"finish_reason":"length"'),
    trailingSpace: event(`"x"`, counts(4)).replace("}}\n\n", "}} \n\n"),
    trailingGarbage: event(`"x"`, counts(4)).replace("}}\n\n", "}}x\n\n"),
    missingBrace: event(`"x"`, counts(4)).replace("}}\n\n", "}\n\n"),
    emptyText: event(`""`, counts(3)),
    unterminatedText: `data: {"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"abc\n\n`,
    multiByte: event(`"→ ünï 🎉"`, counts(5)),
  };
  for (const [name, deviant] of Object.entries(later)) cases[`later event: ${name}`] = after(deviant);

  for (const [name, text] of Object.entries(cases)) {
    test(name, () => {
      const { reference } = compare(completions, new TextEncoder().encode(text));
      expect(reference.outcome).toBeDefined();
    });
  }

  test("after the first event of a request, its token events take the template (no pattern match, no JSON.parse)", () => {
    const exec = RegExp.prototype.exec;
    const parse = JSON.parse;
    let execs = 0;
    let parses = 0;
    RegExp.prototype.exec = function (this: RegExp, input: string) {
      execs++;
      return exec.call(this, input);
    };
    JSON.parse = ((text: string, reviver?: (key: string, value: unknown) => unknown) => {
      parses++;
      return parse(text, reviver);
    }) as typeof JSON.parse;
    try {
      for (const kind of ["completions", "chat"] as const) {
        execs = 0;
        parses = 0;
        const state = new StreamState(() => {});
        const decode = fastOpenAiDecoder(state, kind, openAiDecoder(state, kind === "chat" ? readChatDelta : readCompletionChoice));
        for (let k = 1; k <= 50; k++) {
          const usage = `{"prompt_tokens":3,"total_tokens":${3 + k},"completion_tokens":${k}}`;
          decode(
            kind === "chat"
              ? `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"t${k}"},"logprobs":null,"finish_reason":null}],"usage":${usage}}`
              : `{"id":"c","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"t${k}","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":${usage}}`,
            k,
          );
        }
        expect(state.counted).toBe(50);
        expect(state.outcome.serverOutTokens).toBe(50);
        expect(state.outcome.serverPromptTokens).toBe(3);
        expect(execs).toBe(1);
        expect(parses).toBe(0);
      }
    } finally {
      RegExp.prototype.exec = exec;
      JSON.parse = parse;
    }
  });

  test("chat: a content-only delta takes the fast path; role, reasoning and tool-call deltas do not", () => {
    let fallbacks = 0;
    const state = new StreamState(() => {});
    const decode = fastOpenAiDecoder(state, "chat", (payload, at) => {
      fallbacks++;
      openAiDecoder(state, readChatDelta)(payload, at);
    });
    const chunk = (delta: string) => `{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":${delta},"logprobs":null,"finish_reason":null}]}`;
    decode(chunk(`{"content":"hi"}`), 1);
    expect(fallbacks).toBe(0);
    decode(chunk(`{"role":"assistant","content":""}`), 2);
    decode(chunk(`{"reasoning":"hm"}`), 3);
    decode(chunk(`{"tool_calls":[{"index":0,"function":{"arguments":"{"}}]}`), 4);
    expect(fallbacks).toBe(3);
    expect(state.counted).toBe(3);
    expect(state.outcome.text).toBe("hi");
    void readCompletionChoice;
  });
});
