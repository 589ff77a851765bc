import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JsonlWriter } from "../src/records/jsonl-writer.ts";

test("every line written whole, in order, UTF-8, lines longer than the writer's buffer included", () => {
  const dir = mkdtempSync(join(tmpdir(), "llmbench-jsonl-"));
  try {
    const path = join(dir, "requests.jsonl");
    const values = [
      { a: 1, text: "ascii" },
      { text: "é — 漢字 🙂 and a lone surrogate \ud800" },
      { long: "x".repeat(200_000), tail: "漢".repeat(30_000) },
      { a: 2 },
    ];
    const writer = new JsonlWriter(path, { truncate: true });
    for (const value of values) writer.write(value);
    writer.writeJson('{"already":"json"}');
    writer.close();
    const lines = readFileSync(path, "utf8").split("\n");
    expect(lines.at(-1)).toBe("");
    expect(lines.slice(0, -1).map((line) => JSON.parse(line))).toEqual([...values.map((v) => JSON.parse(JSON.stringify(v))), { already: "json" }]);
    // the same bytes writeSync of the string would have written
    expect(readFileSync(path)).toEqual(Buffer.from(values.map((v) => JSON.stringify(v)).join("\n") + '\n{"already":"json"}\n', "utf8"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
