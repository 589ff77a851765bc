import { describe, expect, test } from "bun:test";
import { UsageError } from "../src/config/usage-error.ts";
import { buildTraceRequests, MOONCAKE_BLOCK_TOKENS, parseTrace } from "../src/dataset/trace.ts";
import { loadTokenizer } from "../src/dataset/tokenizer.ts";

const mooncake = [
  `{"timestamp": 0, "input_length": 1100, "output_length": 10, "hash_ids": [0, 1, 2]}`,
  `{"timestamp": 27, "input_length": 700, "output_length": 3, "hash_ids": [0, 3]}`,
  `{"timestamp": 27, "input_length": 50, "output_length": 4, "hash_ids": [9]}`,
  `{"timestamp": 5, "prompt": "Hi", "output_length": 2, "session_id": 7}`,
  `{"timestamp": 9, "prompt": "More?", "session_id": 7}`,
].join("\n");

describe("trace loading", () => {
  test("Mooncake lines: exact lengths, shared hash ids share their blocks, send order by timestamp", async () => {
    const tokenizer = await loadTokenizer("cl100k_base");
    const requests = buildTraceRequests(parseTrace(mooncake, "t.jsonl"), tokenizer, { speed: 2, outputLen: 16, seed: 0 }, "t.jsonl");
    expect(requests.map((r) => [r.line, r.plannedMs, r.outputLen, r.conversation, r.turn])).toEqual([
      [1, 0, 10, "line 1", 0],
      [4, 2.5, 2, "7", 0],
      [5, 4.5, 16, "7", 1],
      [2, 13.5, 3, "line 2", 0],
      [3, 13.5, 4, "line 3", 0],
    ]);
    const [first, , , second, third] = requests;
    expect(tokenizer.count(first!.text)).toBe(1100);
    expect(tokenizer.count(second!.text)).toBe(700);
    expect(tokenizer.count(third!.text)).toBe(50);
    // the first block (hash id 0) is the same words in both; the second block differs
    const words = (text: string) => text.split(" ");
    expect(words(second!.text).slice(0, MOONCAKE_BLOCK_TOKENS)).toEqual(words(first!.text).slice(0, MOONCAKE_BLOCK_TOKENS));
    expect(words(second!.text).slice(MOONCAKE_BLOCK_TOKENS, MOONCAKE_BLOCK_TOKENS + 20)).not.toEqual(words(first!.text).slice(MOONCAKE_BLOCK_TOKENS, MOONCAKE_BLOCK_TOKENS + 20));
    expect(requests[1]!.text).toBe("Hi");
  });

  test("bad lines name the file and line", () => {
    const cases: Array<[string, string]> = [
      [`{"timestamp": 0, "input_length": 5, "output_length": 1}\nnot json`, "t.jsonl:2: not a JSON object"],
      [`{"input_length": 5}`, "t.jsonl:1: timestamp: expected milliseconds"],
      [`{"timestamp": -1, "input_length": 5}`, "t.jsonl:1: timestamp"],
      [`{"timestamp": 0}`, "t.jsonl:1: give a prompt or an input_length"],
      [`{"timestamp": 0, "input_length": 2.5}`, "t.jsonl:1: input_length: expected a positive integer"],
      [`{"timestamp": 0, "input_length": 5, "hash_ids": [1, "x"]}`, "t.jsonl:1: hash_ids"],
      [`\n\n{"timestamp": 0, "prompt": "a", "input_length": 3}`, "t.jsonl:3: give a prompt or an input_length, not both"],
      [`[1]`, "t.jsonl:1: expected a JSON object"],
      [``, "t.jsonl: the trace has no requests"],
    ];
    for (const [text, message] of cases) {
      expect(() => parseTrace(text, "t.jsonl")).toThrow(UsageError);
      expect(() => parseTrace(text, "t.jsonl")).toThrow(message);
    }
  });

  test("a line without output_length needs --output-len", async () => {
    const tokenizer = await loadTokenizer("cl100k_base");
    const lines = parseTrace(`{"timestamp": 0, "prompt": "a", "output_length": 2}\n{"timestamp": 1, "prompt": "b"}`, "t.jsonl");
    expect(() => buildTraceRequests(lines, tokenizer, { speed: 1, outputLen: undefined, seed: 0 }, "t.jsonl")).toThrow("t.jsonl:2: no output_length");
  });
});
