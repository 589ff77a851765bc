import { describe, expect, test } from "bun:test";
import { openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openDatasetFile } from "../src/dataset/file-dataset.ts";
import { indexJsonArray, indexJsonLines, readRange } from "../src/dataset/json-index.ts";
import { ConversationSampler, type SamplerOptions } from "../src/dataset/sampler.ts";
import { syntheticDataset, textOfExactLength } from "../src/dataset/synthetic.ts";
import { loadTokenizer } from "../src/dataset/tokenizer.ts";
import { seededRandom } from "../src/dataset/prng.ts";
import { UsageError } from "../src/config/usage-error.ts";
import { DATASET, tempDir } from "./helpers/cli.ts";

const noFilters: SamplerOptions = { fixedOutputLen: undefined, systemPrompt: null, minInputLen: null, maxInputLen: null, maxTotalLen: null };

function writeTemp(name: string, content: string): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

describe("indexing JSON without parsing it", () => {
  const entries = [
    { id: "a", conversations: [{ from: "human", value: 'quote " and backslash \\ and \\" both' }] },
    { id: "b", text: "braces { [ ] } in a string", nested: [[1, 2], { x: "}" }] },
    { id: "c", value: "ends with backslashes \\\\" },
    { id: "d", unicode: "héllo wörld ✓ 中文" },
  ];
  const text = JSON.stringify(entries, null, 1);

  test("every element's byte range parses to that element, whatever the chunk size", () => {
    const path = writeTemp("a.json", text);
    for (const chunk of [1, 2, 3, 5, 7, 64, 1 << 20]) {
      const fd = openSync(path, "r");
      const index = indexJsonArray(fd, chunk);
      expect(index.count).toBe(entries.length);
      for (let i = 0; i < entries.length; i++) expect(JSON.parse(readRange(fd, index.range(i)))).toEqual(entries[i]);
    }
  });

  test("framing errors are reported, not guessed around", () => {
    const cases: Array<[string, string]> = [
      ['{"a": 1}', "expected a JSON array"],
      ['[{"a": 1}, {"b": ', "ends before the array's closing ]"],
      ['[{"a": 1}] [', "unexpected content after the closing ]"],
      ["", "the file is empty"],
      ['[{"a": 1},, {"b": 2}]', 'unexpected ","'],
    ];
    for (const [content, message] of cases) {
      const fd = openSync(writeTemp("bad.json", content), "r");
      expect(() => indexJsonArray(fd, 3)).toThrow(message);
    }
  });

  test("JSON Lines: one entry per non-blank line, the last one without its newline too", () => {
    const lines = ['{"prompt": "one"}', "", "  ", '{"prompt": "two \\n still two"}', '{"prompt": "three"}'];
    const path = writeTemp("a.jsonl", lines.join("\n"));
    for (const chunk of [1, 4, 1 << 20]) {
      const fd = openSync(path, "r");
      const index = indexJsonLines(fd, chunk);
      expect(index.count).toBe(3);
      expect(JSON.parse(readRange(fd, index.range(1))).prompt).toBe("two \n still two");
      expect(JSON.parse(readRange(fd, index.range(2))).prompt).toBe("three");
    }
  });
});

describe("dataset files", () => {
  test("ShareGPT: every user turn with the answer after it", () => {
    const source = openDatasetFile(DATASET);
    expect(source.size).toBeGreaterThan(100);
    const path = writeTemp("multi.json", JSON.stringify([
      { id: "x", conversations: [
        { from: "gpt", value: "an opening by the assistant is skipped" },
        { from: "human", value: "first question" }, { from: "gpt", value: "first answer" },
        { from: "human", value: "second question" }, { from: "gpt", value: "second answer" },
        { from: "human", value: "third, unanswered" },
      ] },
    ]));
    expect(openDatasetFile(path).conversation(0)).toEqual({
      userTurns: ["first question", "second question", "third, unanswered"],
      answers: ["first answer", "second answer", null],
      outputLens: [null, null, null],
    });
  });

  test("JSONL of {prompt, output_len} and of {messages}", () => {
    const path = writeTemp("d.jsonl", [
      JSON.stringify({ prompt: "say hi", output_len: 12 }),
      JSON.stringify({ messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }, { role: "assistant", content: "hello" }] }),
    ].join("\n") + "\n");
    const source = openDatasetFile(path);
    expect(source.size).toBe(2);
    expect(source.conversation(0)).toEqual({ userTurns: ["say hi"], answers: [null], outputLens: [12] });
    expect(source.conversation(1)).toEqual({ userTurns: ["hi"], answers: ["hello"], outputLens: [null] });
  });

  test("bad files name the file and the problem", () => {
    const expectUsage = (path: string, message: string) => {
      expect(() => openDatasetFile(path)).toThrow(UsageError);
      expect(() => openDatasetFile(path)).toThrow(message);
    };
    expectUsage("/nonexistent/data.json", "/nonexistent/data.json: file not found");
    expectUsage(writeTemp("empty.json", "  \n"), "the file is empty");
    expectUsage(writeTemp("empty-array.json", "[]"), "the array has no entries");
    expectUsage(writeTemp("trunc.json", '[{"conversations": ['), "not valid JSON");
    expectUsage(writeTemp("bad.jsonl", "{not json}\n"), "bad.jsonl:1: not valid JSON");
    expectUsage(writeTemp("shape.jsonl", '{"prompt": 5}\n'), 'shape.jsonl:1: "prompt" must be a string');
    expectUsage(writeTemp("len.jsonl", '{"prompt": "x", "output_len": -3}\n'), '"output_len" must be a positive integer');
  });
});

describe("sampling", async () => {
  const tokenizer = await loadTokenizer("cl100k_base");

  test("a user's conversations depend only on (seed, user)", () => {
    const a = new ConversationSampler(openDatasetFile(DATASET), tokenizer, noFilters);
    const b = new ConversationSampler(openDatasetFile(DATASET), tokenizer, noFilters);
    b.warm(1, 50, 3); // other users drawn first change nothing
    const take = (sampler: ConversationSampler, seed: number, user: number) => {
      const next = sampler.userSequence(seed, user);
      return Array.from({ length: 5 }, () => next().index);
    };
    expect(take(a, 1, 3)).toEqual(take(b, 1, 3));
    expect(take(a, 1, 3)).not.toEqual(take(a, 1, 4));
    expect(take(a, 1, 3)).not.toEqual(take(a, 2, 3));
    expect(a.requestPlan(9, 17).index).toBe(b.requestPlan(9, 17).index);
  });

  test("filters skip entries by their first prompt's tokens; nothing left is a clear error", () => {
    const sampler = new ConversationSampler(openDatasetFile(DATASET), tokenizer, { ...noFilters, maxInputLen: 20 });
    const next = sampler.userSequence(0, 0);
    for (let i = 0; i < 50; i++) expect(tokenizer.count(next().turns[0]!.text)).toBeLessThanOrEqual(20);
    const none = new ConversationSampler(openDatasetFile(DATASET), tokenizer, { ...noFilters, minInputLen: 1_000_000 });
    expect(() => none.warm(0, 1, 1)).toThrow("no usable entry after 20000 draws");
    expect(() => none.warm(0, 1, 1)).toThrow("shorter than --min-input-len");
  });

  test("output lengths: fixed, the JSONL output_len, or the reference answer's tokens", () => {
    const path = writeTemp("o.jsonl", JSON.stringify({ prompt: "p", output_len: 7 }) + "\n");
    expect(new ConversationSampler(openDatasetFile(path), tokenizer, noFilters).requestPlan(0, 0).turns[0]!.outputLen).toBe(7);
    expect(new ConversationSampler(openDatasetFile(path), tokenizer, { ...noFilters, fixedOutputLen: 3 }).requestPlan(0, 0).turns[0]!.outputLen).toBe(3);
    const share = new ConversationSampler(openDatasetFile(DATASET), tokenizer, noFilters);
    const plan = share.requestPlan(0, 0);
    const answer = openDatasetFile(DATASET).conversation(plan.index)!.answers[0]!;
    expect(plan.turns[0]!.outputLen).toBe(tokenizer.count(answer));
  });

  test("the system prompt goes first and counts in the first turn's input tokens", () => {
    const system = "You are a helpful assistant who answers briefly.";
    const sampler = new ConversationSampler(openDatasetFile(DATASET), tokenizer, { ...noFilters, systemPrompt: system });
    const plan = sampler.requestPlan(0, 1);
    const messages = sampler.messages([], plan.turns[0]!.text);
    expect(messages[0]).toEqual({ role: "system", content: system });
    expect(plan.firstTurnInTokens).toBe(tokenizer.count(`${system}\n\n${plan.turns[0]!.text}`));
  });
});

describe("synthetic prompts", async () => {
  for (const name of ["cl100k_base", "o200k_base"] as const) {
    test(`exactly the drawn number of ${name} tokens, with a shared prefix`, async () => {
      const tokenizer = await loadTokenizer(name);
      const source = syntheticDataset({ inputLen: 120, inputLenStd: 40, outputLen: 30, outputLenStd: 5, prefixLen: 16, seed: 3 }, tokenizer);
      const prefix = textOfExactLength(tokenizer, "", 16, seededRandom(3, 0x70726566));
      const lengths = new Set<number>();
      for (let i = 0; i < 40; i++) {
        const conversation = source.conversation(i)!;
        const text = conversation.userTurns[0]!;
        expect(text.startsWith(prefix)).toBe(true);
        const random = seededRandom(3, i, 0x73796e);
        // the same draw the source made: the prompt is prefix (16) + the drawn input length
        const u = 1 - random();
        const v = random();
        const drawn = Math.max(1, Math.round(120 + 40 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)));
        expect(tokenizer.count(text)).toBe(16 + drawn);
        lengths.add(drawn);
        expect(conversation.outputLens[0]).toBeGreaterThanOrEqual(1);
      }
      expect(lengths.size).toBeGreaterThan(20);
      expect(source.conversation(5)).toEqual(source.conversation(5));
    });
  }
});

describe("a model's own tokenizer.json", () => {
  test("counts with the model's vocabulary, and a bad path is a clear error", async () => {
    const dir = tempDir();
    const vocab: Record<string, number> = { "[UNK]": 0, "<s>": 1, hello: 2, world: 3, again: 4 };
    writeFileSync(join(dir, "tokenizer.json"), JSON.stringify({
      version: "1.0", truncation: null, padding: null, added_tokens: [],
      normalizer: null, pre_tokenizer: { type: "Whitespace" }, post_processor: null, decoder: null,
      model: { type: "WordLevel", vocab, unk_token: "[UNK]" },
    }));
    const tokenizer = await loadTokenizer(join(dir, "tokenizer.json"));
    expect(tokenizer.count("hello world hello again")).toBe(4);
    expect(tokenizer.count("hello unknownword")).toBe(2);
    expect((await loadTokenizer(dir)).count("hello")).toBe(1);
    await expect(loadTokenizer(join(dir, "missing.json"))).rejects.toThrow("does not exist");
  });
});
