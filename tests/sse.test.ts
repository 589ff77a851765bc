import { expect, test } from "bun:test";
import { SseParser } from "../src/backends/transport/sse.ts";

test("events split across reads are joined, several in one read are separated", () => {
  const parser = new SseParser();
  expect(parser.push('data: {"a":')).toEqual([]);
  expect(parser.push('1}\n\ndata: {"b":2}\n\ndata: [DO')).toEqual(['{"a":1}', '{"b":2}']);
  expect(parser.push("NE]\n\n")).toEqual(["[DONE]"]);
});

test("data: with or without a space, CRLF line ends, comments and other fields", () => {
  const parser = new SseParser();
  expect(parser.push(': ping\r\n\r\ndata:{"x":1}\r\n\r\nevent: message\nid: 7\ndata: {"y":2}\n\n')).toEqual(['{"x":1}', '{"y":2}']);
});

test("a CRLF split between reads is one line end, not two", () => {
  const parser = new SseParser();
  expect(parser.push("data: 1\r")).toEqual([]);
  expect(parser.push("\ndata: 2\r\n\r")).toEqual([]);
  expect(parser.push("\n")).toEqual(["1\n2"]);
});

test("multi-line data is joined with newlines; flush returns an event left without its blank line", () => {
  const parser = new SseParser();
  expect(parser.push("data: a\ndata: b\n\ndata: last")).toEqual(["a\nb"]);
  expect(parser.flush()).toEqual(["last"]);
  expect(parser.flush()).toEqual([]);
});
