/**
 * HPACK (RFC 7541) for the lean HTTP/2 client: a decoder for the server's header blocks (static and
 * dynamic table, integers, Huffman-coded strings) and an encoder that writes every request header
 * as a literal without indexing (legal, and the request's headers are encoded once per request).
 * Header blocks come once or twice per call (response headers, trailers): none of this is per token.
 */

export class HpackError extends Error {}

const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [":authority", ""], [":method", "GET"], [":method", "POST"], [":path", "/"], [":path", "/index.html"],
  [":scheme", "http"], [":scheme", "https"], [":status", "200"], [":status", "204"], [":status", "206"],
  [":status", "304"], [":status", "400"], [":status", "404"], [":status", "500"], ["accept-charset", ""],
  ["accept-encoding", "gzip, deflate"], ["accept-language", ""], ["accept-ranges", ""], ["accept", ""],
  ["access-control-allow-origin", ""], ["age", ""], ["allow", ""], ["authorization", ""], ["cache-control", ""],
  ["content-disposition", ""], ["content-encoding", ""], ["content-language", ""], ["content-length", ""],
  ["content-location", ""], ["content-range", ""], ["content-type", ""], ["cookie", ""], ["date", ""],
  ["etag", ""], ["expect", ""], ["expires", ""], ["from", ""], ["host", ""], ["if-match", ""],
  ["if-modified-since", ""], ["if-none-match", ""], ["if-range", ""], ["if-unmodified-since", ""],
  ["last-modified", ""], ["link", ""], ["location", ""], ["max-forwards", ""], ["proxy-authenticate", ""],
  ["proxy-authorization", ""], ["range", ""], ["referer", ""], ["refresh", ""], ["retry-after", ""],
  ["server", ""], ["set-cookie", ""], ["strict-transport-security", ""], ["transfer-encoding", ""],
  ["user-agent", ""], ["vary", ""], ["via", ""], ["www-authenticate", ""],
];

/**
 * The Huffman code's lengths in bits for symbols 0..256 (256: EOS), as letters ('A' = 5 bits).
 * RFC 7541's code is canonical (codes assigned in order of length, then symbol), so the lengths
 * define it; tests/http2-hpack.test.ts checks codes of the RFC's examples.
 */
const HUFFMAN_LENGTHS =
  "ISXXXXXXXTZXXZXXXXXXXXZXXXXXXXXXBFFHIBDGFFDGDBBBAAABBBBBBBCDKBHFIBCCCCCCCCCCCCCCCCCCCCCCDCDIOIJBKABABABBBACCBBBABCBAABCCCCCKGJIXPRPPRRRSRSSSSSTSTTRSTSSSSQRSRSSTRQPRRSSQSRRTQRSSQQRQSRSSPRRRSRRSVVPORSRUVVVWWVTUOQVWWVWTQQVVXWWWPTPQRQQSRRUUTTVSVWVVWWWWWXWWWWWVZ";

/** Canonical decoding tables: for each length, the first code, how many codes, where its symbols start. */
const huffman = (() => {
  const lengths = Array.from(HUFFMAN_LENGTHS, (c) => c.charCodeAt(0) - 60);
  const symbols = lengths.map((_, s) => s).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const firstCode = new Array<number>(31).fill(0);
  const count = new Array<number>(31).fill(0);
  const offset = new Array<number>(31).fill(0);
  for (const l of lengths) count[l]!++;
  let code = 0;
  let index = 0;
  for (let l = 1; l <= 30; l++) {
    firstCode[l] = code;
    offset[l] = index;
    index += count[l]!;
    code = (code + count[l]!) * 2;
  }
  return { symbols, firstCode, count, offset };
})();

/** Huffman-decodes bytes [start, end) of `buf` (RFC 7541 5.2: padding is < 8 one-bits, EOS is an error). */
export function huffmanDecode(buf: Uint8Array, start: number, end: number): string {
  const { symbols, firstCode, count, offset } = huffman;
  const out: number[] = [];
  let code = 0;
  let length = 0;
  let ones = true;
  for (let i = start; i < end; i++) {
    const byte = buf[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      const b = (byte >> bit) & 1;
      code = code * 2 + b;
      length++;
      ones &&= b === 1;
      const index = code - firstCode[length]!;
      if (index >= 0 && index < count[length]!) {
        const symbol = symbols[offset[length]! + index]!;
        if (symbol === 256) throw new HpackError("Huffman string contains EOS");
        out.push(symbol);
        code = 0;
        length = 0;
        ones = true;
      } else if (length >= 30) throw new HpackError("invalid Huffman code");
    }
  }
  if (length > 7 || !ones) throw new HpackError("invalid Huffman padding");
  return new TextDecoder().decode(Uint8Array.from(out));
}

const latin = new TextDecoder("latin1");
const utf8 = new TextEncoder();

/** One decoder per connection: the server's dynamic table lives as long as the connection. */
export class HpackDecoder {
  private readonly dynamic: Array<readonly [string, string]> = [];
  private size = 0;
  /** The most the server may use (our SETTINGS_HEADER_TABLE_SIZE: the default). */
  private readonly maxAllowed = 4096;
  private max = 4096;

  /** Decodes one complete header block into [name, value] pairs, in order. Throws HpackError. */
  decode(block: Uint8Array): Array<[string, string]> {
    const fields: Array<[string, string]> = [];
    let pos = 0;
    const integer = (prefixBits: number): number => {
      const mask = (1 << prefixBits) - 1;
      let value = block[pos++]! & mask;
      if (value < mask) return value;
      let scale = 1;
      for (;;) {
        if (pos >= block.length) throw new HpackError("truncated integer");
        const byte = block[pos++]!;
        value += (byte & 0x7f) * scale;
        if (value > 0x7fffffff) throw new HpackError("integer too large");
        if (byte < 0x80) return value;
        scale *= 128;
      }
    };
    const string = (): string => {
      if (pos >= block.length) throw new HpackError("truncated string");
      const huffmanCoded = (block[pos]! & 0x80) !== 0;
      const length = integer(7);
      if (length > block.length - pos) throw new HpackError("truncated string");
      const text = huffmanCoded ? huffmanDecode(block, pos, pos + length) : latin.decode(block.subarray(pos, pos + length));
      pos += length;
      return text;
    };
    const entry = (index: number): readonly [string, string] => {
      if (index === 0) throw new HpackError("index 0");
      if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
      const dynamic = this.dynamic[index - STATIC_TABLE.length - 1];
      if (dynamic === undefined) throw new HpackError(`index ${index} beyond the tables`);
      return dynamic;
    };
    let sizeUpdateAllowed = true;
    while (pos < block.length) {
      const byte = block[pos]!;
      if (byte & 0x80) {
        const [name, value] = entry(integer(7));
        fields.push([name, value]);
      } else if (byte & 0x40) {
        const index = integer(6);
        const name = index === 0 ? string() : entry(index)[0];
        const value = string();
        fields.push([name, value]);
        this.add(name, value);
      } else if (byte & 0x20) {
        if (!sizeUpdateAllowed) throw new HpackError("table size update after a field");
        const max = integer(5);
        if (max > this.maxAllowed) throw new HpackError(`table size ${max} above the allowed ${this.maxAllowed}`);
        this.max = max;
        this.evict();
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001): 4-bit prefix either way.
        const index = integer(4);
        const name = index === 0 ? string() : entry(index)[0];
        fields.push([name, string()]);
      }
      sizeUpdateAllowed = false;
    }
    return fields;
  }

  private add(name: string, value: string): void {
    this.dynamic.unshift([name, value]);
    this.size += name.length + value.length + 32;
    this.evict();
  }

  private evict(): void {
    while (this.size > this.max && this.dynamic.length > 0) {
      const [name, value] = this.dynamic.pop()!;
      this.size -= name.length + value.length + 32;
    }
  }
}

/** A header block of literals without indexing, new names, no Huffman: what a request needs, built once. */
export function encodeHeaderBlock(fields: ReadonlyArray<readonly [string, string]>): Uint8Array {
  const bytes: number[] = [];
  const integer = (value: number, prefixBits: number, first: number) => {
    const mask = (1 << prefixBits) - 1;
    if (value < mask) return void bytes.push(first | value);
    bytes.push(first | mask);
    let rest = value - mask;
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    bytes.push(rest);
  };
  const string = (text: string) => {
    const encoded = utf8.encode(text);
    integer(encoded.length, 7, 0);
    for (const byte of encoded) bytes.push(byte);
  };
  for (const [name, value] of fields) {
    bytes.push(0x00);
    string(name);
    string(value);
  }
  return Uint8Array.from(bytes);
}
