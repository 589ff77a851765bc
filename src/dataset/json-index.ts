import { fstatSync, readSync } from "node:fs";

/**
 * Byte ranges of the entries of a large JSON array or JSON Lines file, found in one pass without
 * parsing: a 640 MB ShareGPT file is indexed in about a second, in bounded memory, and each entry
 * is read and parsed only when it is sampled.
 */
export class EntryIndex {
  private starts = new Float64Array(1024);
  private ends = new Float64Array(1024);
  count = 0;

  add(start: number, end: number): void {
    if (this.count === this.starts.length) {
      const grow = (old: Float64Array) => {
        const bigger = new Float64Array(old.length * 2);
        bigger.set(old);
        return bigger;
      };
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.starts[this.count] = start;
    this.ends[this.count] = end;
    this.count++;
  }

  range(index: number): [number, number] {
    return [this.starts[index]!, this.ends[index]!];
  }
}

export class JsonFramingError extends Error {}

const CHUNK_BYTES = 8 * 1024 * 1024;
const QUOTE = 0x22, BACKSLASH = 0x5c, OPEN_BRACE = 0x7b, CLOSE_BRACE = 0x7d, OPEN_BRACKET = 0x5b, CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c, NEWLINE = 0x0a;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** Calls `onChunk(buffer, length, fileOffset)` over the whole file, chunk by chunk. */
function forEachChunk(fd: number, chunkBytes: number, onChunk: (buffer: Buffer, length: number, offset: number) => void): void {
  const buffer = Buffer.allocUnsafe(chunkBytes);
  let offset = 0;
  for (;;) {
    const length = readSync(fd, buffer, 0, chunkBytes, offset);
    if (length === 0) return;
    onChunk(buffer, length, offset);
    offset += length;
  }
}

/**
 * Indexes the elements of a top-level JSON array. Checks the framing (one array; strings, braces
 * and brackets balanced), not each element's content, which is parsed when sampled.
 */
export function indexJsonArray(fd: number, chunkBytes = CHUNK_BYTES): EntryIndex {
  const index = new EntryIndex();
  let started = false; // seen the opening "["
  let finished = false; // seen the closing "]"
  let depth = 0; // nesting inside the top-level array
  let inString = false;
  let backslashRun = 0; // backslashes just before the current position, inside a string
  let entryStart = -1;
  let expectValue = true;

  forEachChunk(fd, chunkBytes, (buffer, length, offset) => {
    let i = 0;
    while (i < length) {
      if (inString) {
        const quote = buffer.indexOf(QUOTE, i);
        const end = quote === -1 || quote >= length ? length : quote;
        // the run of backslashes that ends right before `end` decides whether that quote is escaped
        let run = 0;
        let j = end - 1;
        while (j >= i && buffer[j] === BACKSLASH) {
          run++;
          j--;
        }
        if (j < i) run += backslashRun; // the run started in an earlier part of the string
        if (end === length) {
          backslashRun = run;
          i = length;
          break;
        }
        backslashRun = 0;
        i = end + 1;
        if (run % 2 === 0) inString = false;
        continue;
      }
      const byte = buffer[i]!;
      if (isSpace(byte)) {
        i++;
        continue;
      }
      if (finished) throw new JsonFramingError(`unexpected content after the closing ] at byte ${offset + i}`);
      if (!started) {
        if (byte !== OPEN_BRACKET) throw new JsonFramingError(`expected a JSON array, found ${JSON.stringify(String.fromCharCode(byte))} at byte ${offset + i}`);
        started = true;
        i++;
        continue;
      }
      if (depth === 0) {
        if (byte === CLOSE_BRACKET) {
          if (entryStart !== -1) index.add(entryStart, offset + i);
          finished = true;
          i++;
          continue;
        }
        if (byte === COMMA) {
          if (expectValue) throw new JsonFramingError(`unexpected "," at byte ${offset + i}`);
          if (entryStart !== -1) index.add(entryStart, offset + i); // an element that is not an object
          entryStart = -1;
          expectValue = true;
          i++;
          continue;
        }
        if (!expectValue) throw new JsonFramingError(`expected "," or "]" at byte ${offset + i}`);
        expectValue = false;
        entryStart = offset + i;
      }
      if (byte === QUOTE) inString = true;
      else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth < 0) throw new JsonFramingError(`unbalanced ${String.fromCharCode(byte)} at byte ${offset + i}`);
      }
      if (depth === 0 && !inString && entryStart !== -1) {
        // a complete element ends at the next comma or bracket; record it when the value closes
        if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
          index.add(entryStart, offset + i + 1);
          entryStart = -1;
        }
      }
      i++;
    }
  });
  if (!started) throw new JsonFramingError("the file is empty");
  if (!finished) throw new JsonFramingError("the file ends before the array's closing ] (truncated?)");
  return index;
}

/** Indexes the non-empty lines of a JSON Lines file. */
export function indexJsonLines(fd: number, chunkBytes = CHUNK_BYTES): EntryIndex {
  const index = new EntryIndex();
  let lineStart = 0;
  let blank = true;
  forEachChunk(fd, chunkBytes, (buffer, length, offset) => {
    let i = 0;
    while (i < length) {
      const newline = buffer.indexOf(NEWLINE, i);
      const end = newline === -1 || newline >= length ? length : newline;
      for (let j = i; blank && j < end; j++) if (!isSpace(buffer[j]!)) blank = false;
      if (end === length) break;
      if (!blank) index.add(lineStart, offset + end);
      lineStart = offset + end + 1;
      blank = true;
      i = end + 1;
    }
  });
  if (!blank) index.add(lineStart, fstatSync(fd).size);
  return index;
}

/** The text of one indexed entry. */
export function readRange(fd: number, [start, end]: [number, number]): string {
  const buffer = Buffer.allocUnsafe(end - start);
  readSync(fd, buffer, 0, end - start, start);
  return buffer.toString("utf8");
}

/** The first non-space byte of a file, to tell a JSON array from JSON Lines; null for an empty file. */
export function firstSignificantByte(fd: number): number | null {
  const buffer = Buffer.allocUnsafe(4096);
  let offset = 0;
  for (;;) {
    const length = readSync(fd, buffer, 0, buffer.length, offset);
    if (length === 0) return null;
    for (let i = 0; i < length; i++) if (!isSpace(buffer[i]!)) return buffer[i]!;
    offset += length;
  }
}
