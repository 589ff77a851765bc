/**
 * Where a shard's folder is read from: a local folder, or an S3 prefix (s3-source.ts). Merge reads
 * three files of each (shard.json, summary.json, requests.jsonl), the records line by line, so a
 * folder is never held whole, wherever it is.
 */
import { createReadStream, readFileSync } from "node:fs";
import { join } from "node:path";
import { UsageError } from "../config/usage-error.ts";
import { eachCompleteLine, lastLine } from "../records/file-lines.ts";

export interface ShardSource {
  /** The folder as named in messages and in the merged summary: a path or an s3:// URL. */
  name: string;
  /** A file of the folder as named in messages. */
  pathOf(file: string): string;
  /** The file's text; null when the folder has no such file. Other failures throw a UsageError naming the file. */
  readText(file: string): Promise<string | null>;
  /** The file's lines, streamed (a trailing "\r" dropped). Failures throw a UsageError naming the file. */
  lines(file: string): AsyncIterable<string>;
}

export function localSource(dir: string): ShardSource {
  return {
    name: dir,
    pathOf: (file) => join(dir, file),
    async readText(file) {
      try {
        return readFileSync(join(dir, file), "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new UsageError(`merge: ${join(dir, file)}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
    },
    async *lines(file) {
      const path = join(dir, file);
      const stream = createReadStream(path);
      try {
        await new Promise<void>((resolve, reject) => stream.once("open", () => resolve()).once("error", reject));
      } catch (error) {
        throw new UsageError(`merge: ${path}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
      }
      yield* linesOf(stream as AsyncIterable<Uint8Array>);
    },
  };
}

/** The lines of a byte stream, decoded as UTF-8 across chunk boundaries. */
export async function* linesOf(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of chunks) {
    const lines: string[] = [];
    rest = eachCompleteLine(rest + decoder.decode(chunk, { stream: true }), (line) => lines.push(line));
    yield* lines;
  }
  const last = lastLine(rest + decoder.decode());
  if (last !== null) yield last;
}
