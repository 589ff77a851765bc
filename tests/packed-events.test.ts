import { expect, test } from "bun:test";
import { eventPairs, interTokenLatencies, measuredInterTokenLatencies, measuredRequestLatency, requestLatency, type MeasuredEvents } from "../src/metrics/request-latency.ts";
import { statsOf } from "../src/metrics/request-stats.ts";
import type { MeasuredRecord, RequestRecord } from "../src/records/record.ts";
import { nanos, recordJson, RecordLineEncoder } from "../src/records/record-line.ts";

/** The events as measureRequest keeps them: tokens only when an event carried other than one. */
const pack = (pairs: Array<[number, number]>): MeasuredEvents => ({
  offsets: Float64Array.from(pairs.map(([offset]) => offset)),
  tokens: pairs.every(([, tokens]) => tokens === 1) ? null : Float64Array.from(pairs.map(([, tokens]) => tokens)),
});

test("measured events (with and without their tokens) give the latencies and ITL samples their pairs give", () => {
  const cases: Array<Array<[number, number]>> = [
    [[100, 1], [160, 3], [180, 1]],
    [[20, 0], [90, 1], [100, 1]],
    [[100, 4], [140, 2]],
    [[42, 1]],
    [[5, 0]],
    [[10, 1], [20, 1], [35, 1]],
    [],
  ];
  for (const pairs of cases) {
    const outTokens = pairs.reduce((n, [, k]) => n + k, 0);
    expect(measuredRequestLatency(pack(pairs), outTokens)).toEqual(requestLatency(pairs, outTokens));
    expect(Array.from(measuredInterTokenLatencies(pack(pairs)))).toEqual(interTokenLatencies(pairs));
    expect(eventPairs(pack(pairs))).toEqual(pairs);
  }
  // by hand: 160 − 100 = 60 over 3 tokens, 180 − 160 = 20 over 1
  expect(Array.from(measuredInterTokenLatencies(pack([[100, 1], [160, 3], [180, 1]])))).toEqual([20, 20, 20, 20]);
  expect(pack([[10, 1], [20, 1]]).tokens).toBeNull();
});

const base: Omit<RequestRecord, "events"> = {
  user: 3, seq: 1, conversation: "3.0", turn: 0, prompt_index: 7, sent: true, send_ms: 1764650000123.4567, reconnected: false, connect_ms: null,
  queue_wait_ms: 0, status: "ok", error: null, in_tokens: 32, server_in_tokens: 32, cached_tokens: null, out_tokens: 5, asked_out_tokens: 5,
  short: false, ttft_ms: 100.25, e2e_ms: 180.0625, done_ms: 181.5, finish_reason: "length", ttft_content_ms: 100.25, reasoning_tokens: 0,
  answer_tokens: 5, thinking_ms: null, request_id: "cmpl-\"events\":\u0000x",
};

test("a measured record's line is the JSON of the record with its events as pairs, key for key", () => {
  const pairs: Array<[number, number]> = [[100.25, 1], [160.1234567890123, 3], [-0, 0], [1e-7, 1], [1e21, 1]];
  const measured: MeasuredRecord = { ...base, events: pack(pairs) };
  expect(recordJson(measured)).toBe(JSON.stringify({ ...base, events: pairs } satisfies RequestRecord));
  expect(recordJson(measured, { shard: 2 })).toBe(JSON.stringify({ ...base, events: pairs, shard: 2 }));
  expect(recordJson({ ...base, events: pack([]) })).toBe(JSON.stringify({ ...base, events: [] }));
  // every event one token: no tokens kept, the same line
  const ones: Array<[number, number]> = [[100.25, 1], [160.1234567890123, 1], [-0, 1], [1e21, 1]];
  expect(pack(ones).tokens).toBeNull();
  expect(recordJson({ ...base, events: pack(ones) })).toBe(JSON.stringify({ ...base, events: ones }));
  // subarrays (measureRequest's events are views of larger blocks) write only their own
  const view: MeasuredEvents = { offsets: Float64Array.from([1, 2, 99]).subarray(0, 2), tokens: Float64Array.from([1, 3, 99]).subarray(0, 2) };
  expect(JSON.parse(recordJson({ ...base, events: view })).events).toEqual([[1, 1], [2, 3]]);
  const onesView: MeasuredEvents = { offsets: Float64Array.from([1, 2, 99]).subarray(0, 2), tokens: null };
  expect(JSON.parse(recordJson({ ...base, events: onesView })).events).toEqual([[1, 1], [2, 1]]);
});

test("statsOf gives the same stats for a measured record and the record read back from its line", () => {
  const pairs: Array<[number, number]> = [[20, 0], [100, 1], [160, 3], [180, 1]];
  const measured: MeasuredRecord = { ...base, events: pack(pairs) };
  const read = JSON.parse(recordJson(measured)) as RequestRecord;
  expect(statsOf(measured)).toEqual(statsOf(read));
  expect(Array.from(statsOf(measured).itl)).toEqual([20, 20, 20, 20]);
  expect(statsOf(measured).tokenEvents).toBe(3);
});

test("offsets in whole nanoseconds are written digit by digit exactly as JSON writes them; other numbers as JSON writes them", () => {
  // a seeded walk over magnitudes from a nanosecond to 10^9 ms, and the edges by hand
  let seed = 12345;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  const values = [0, -0, 1e-6, 0.000001, 0.00001, 0.1, 1, 9.999999, 10, 100.000001, 999999999.999999, 123456.78, 5e-7, 1e9, 1e9 + 0.5, 3.5e-8, -1, -0.25, 2 ** 53, Number.MAX_VALUE, 1e21];
  for (let i = 0; i < 20000; i++) values.push(nanos(10 ** (random() * 15 - 6) * random()));
  for (let i = 0; i < 2000; i++) values.push(10 ** (random() * 12 - 6) * random()); // not in whole nanoseconds: JSON's own digits
  const pairs = values.map((value, i): [number, number] => [value, i % 7 === 0 ? 0 : i % 5 === 0 ? 2.5 : 1]);
  const measured: MeasuredRecord = { ...base, events: pack(pairs) };
  expect(recordJson(measured)).toBe(JSON.stringify({ ...base, events: pairs }));
  expect(JSON.parse(recordJson(measured)).events).toEqual(pairs.map(([offset, tokens]) => [Object.is(offset, -0) ? 0 : offset, tokens]));
  expect(recordJson({ ...base, events: pack([[NaN, 1], [Infinity, 1]]) })).toBe(JSON.stringify({ ...base, events: [[null, 1], [null, 1]] }));
});

test("a record's line is scrubbed in its text, never in its numbers, and one encoder writes line after line", () => {
  const encoder = new RecordLineEncoder();
  const clean = (text: string) => text.replaceAll("secret-in-error", "<redacted>").replaceAll("1", "X");
  const decoded = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const long: MeasuredRecord = { ...base, error: "echo secret-in-error", events: pack(Array.from({ length: 5000 }, (_, i): [number, number] => [i + 0.125, 1])) };
  const line = decoded(encoder.encodeLine(long, undefined, clean));
  expect(line.endsWith("\n")).toBe(true);
  expect(line).toContain('"error":"echo <redacted>"');
  expect(line).not.toContain("secret-in-error");
  expect(line).toContain('"events":[[0.125,1],[1.125,1],[2.125,1]');
  expect(line).toContain('"user":3,"seq":X'); // text parts went through clean, the events' numbers did not
  const short = decoded(encoder.encodeLine({ ...base, events: pack([[7, 1]]) }));
  expect(short).toBe(`${JSON.stringify({ ...base, events: [[7, 1]] })}\n`);
});
