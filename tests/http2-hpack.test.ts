import { describe, expect, test } from "bun:test";
import { encodeHeaderBlock, HpackDecoder, HpackError, huffmanDecode } from "../src/backends/transport/http2-hpack.ts";

const hex = (text: string) => Uint8Array.from(text.replace(/\s/g, "").match(/../g)!.map((pair) => parseInt(pair, 16)));

describe("HPACK decoding (RFC 7541's examples)", () => {
  test("Huffman-coded strings (C.4)", () => {
    expect(huffmanDecode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4ff"), 0, 12)).toBe("www.example.com");
    expect(huffmanDecode(hex("a8eb 1064 9cbf"), 0, 6)).toBe("no-cache");
    expect(huffmanDecode(hex("25a8 49e9 5ba9 7d7f"), 0, 8)).toBe("custom-key");
    expect(huffmanDecode(hex("25a8 49e9 5bb8 e8b4 bf"), 0, 9)).toBe("custom-value");
  });

  test("three requests on one connection share the dynamic table (C.4.1–C.4.3)", () => {
    const decoder = new HpackDecoder();
    expect(decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"))).toEqual([
      [":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"],
    ]);
    expect(decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf"))).toEqual([
      [":method", "GET"], [":scheme", "http"], [":path", "/"], [":authority", "www.example.com"], ["cache-control", "no-cache"],
    ]);
    expect(decoder.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"))).toEqual([
      [":method", "GET"], [":scheme", "https"], [":path", "/index.html"], [":authority", "www.example.com"], ["custom-key", "custom-value"],
    ]);
  });

  test("plain literals, never-indexed ones and a table size update that empties the table", () => {
    const decoder = new HpackDecoder();
    // C.2.1: literal with indexing, new name; C.2.3: never indexed.
    expect(decoder.decode(hex("400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572"))).toEqual([["custom-key", "custom-header"]]);
    expect(decoder.decode(hex("be"))).toEqual([["custom-key", "custom-header"]]);
    expect(decoder.decode(hex("1008 7061 7373 776f 7264 0673 6563 7265 74"))).toEqual([["password", "secret"]]);
    expect(() => decoder.decode(hex("20 be"))).toThrow(HpackError); // size 0 evicts the entry: index 62 is gone
  });

  test("malformed blocks are errors", () => {
    expect(() => new HpackDecoder().decode(hex("80"))).toThrow(HpackError); // index 0
    expect(() => new HpackDecoder().decode(hex("ff00"))).toThrow(HpackError); // beyond the tables
    expect(() => new HpackDecoder().decode(hex("4185 f1e3"))).toThrow(HpackError); // truncated string
    expect(() => huffmanDecode(hex("f1e3 c2e5 f23a 6ba0 ab90 f4fe"), 0, 12)).toThrow(HpackError); // padding not all ones
    expect(() => huffmanDecode(hex("ffff ffff"), 0, 4)).toThrow(HpackError); // EOS
    expect(() => new HpackDecoder().decode(hex("8220"))).toThrow(HpackError); // size update after a field
  });

  test("the request encoder's literals decode to what was encoded", () => {
    const fields: Array<[string, string]> = [[":method", "POST"], [":path", "/ppl.llm.proto.LLMService/Generation"], ["authorization", "Bearer " + "k".repeat(300)]];
    expect(new HpackDecoder().decode(encodeHeaderBlock(fields))).toEqual(fields);
  });
});
