import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { forEachLine } from "../src/records/file-lines.ts";
import { tempDir } from "./helpers/cli.ts";

function linesOf(text: string | Buffer): string[] {
  const path = join(tempDir(), "lines.txt");
  writeFileSync(path, text);
  const lines: string[] = [];
  forEachLine(path, (line) => lines.push(line));
  return lines;
}

describe("forEachLine: a file a megabyte at a time", () => {
  test("lines, CRLF, an empty line and a last line without a newline", () => {
    expect(linesOf("a\r\nb\n\nlast")).toEqual(["a", "b", "", "last"]);
    expect(linesOf("")).toEqual([]);
    expect(linesOf("one\n")).toEqual(["one"]);
  });

  test("lines and multi-byte characters cut by the megabyte boundaries come out whole", () => {
    // 3-byte characters (€) in lines of odd lengths: the 1 MiB reads end inside lines and inside characters
    const expected = Array.from({ length: 30_000 }, (_, i) => `${i}:${"€".repeat(i % 97)}${"x".repeat(i % 13)}`);
    const text = expected.join("\n") + "\n";
    expect(Buffer.byteLength(text)).toBeGreaterThan(3 * (1 << 20));
    expect(linesOf(text)).toEqual(expected);
  });
});
