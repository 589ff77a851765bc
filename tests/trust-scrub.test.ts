import { describe, expect, test } from "bun:test";
import { Scrubber, SCRUBBED } from "../src/records/scrub.ts";
import { secretValues } from "../src/server/redact.ts";

const KEY = "sk-test-4f9a2c7e1b3d5a6f";

function scrubberOf(...secrets: string[]): Scrubber {
  const scrubber = new Scrubber();
  for (const secret of secrets) scrubber.add(secret);
  return scrubber;
}

describe("the output scrubber", () => {
  const scrubber = scrubberOf(KEY);

  test("removes the key bare and in an echoed Authorization header", () => {
    expect(scrubber.scrub(`HTTP 401: {"error":"bad key","authorization":"Bearer ${KEY}"}`)).toBe(
      `HTTP 401: {"error":"bad key","authorization":"Bearer ${SCRUBBED}"}`,
    );
    expect(scrubber.scrub(`key=${KEY}; again ${KEY}.`)).toBe(`key=${SCRUBBED}; again ${SCRUBBED}.`);
  });

  test("removes it URL-encoded, JSON-escaped and base64-encoded", () => {
    const odd = 'k3y/with+odd"chars\\and=more';
    const s = scrubberOf(odd);
    expect(s.scrub(`GET /v1?key=${encodeURIComponent(odd)} failed`)).toBe(`GET /v1?key=${SCRUBBED} failed`);
    expect(s.scrub(JSON.stringify({ error: `Bearer ${odd}` }))).toBe(`{"error":"Bearer ${SCRUBBED}"}`);
    expect(s.scrub(JSON.stringify(JSON.stringify({ error: odd })))).not.toContain("odd");
    const basic = Buffer.from(KEY).toString("base64");
    expect(scrubber.scrub(`Authorization: Basic ${basic}`)).toBe(`Authorization: Basic ${SCRUBBED}`);
  });

  test("removes an echo cut short (an error body kept to its first characters)", () => {
    const body = `HTTP 401: you sent Bearer ${KEY}`.slice(0, 40);
    expect(body).toContain(KEY.slice(0, 12));
    expect(scrubber.scrub(body)).toBe(`HTTP 401: you sent Bearer ${SCRUBBED}`);
    expect(scrubber.scrub(`${KEY.slice(0, 15)}… (truncated)`)).toBe(`${SCRUBBED}… (truncated)`);
  });

  test("a key's constant prefix in ordinary text is not taken for a cut-short echo", () => {
    const s = scrubberOf("llmbench-echo-key-93b1f0c2d7e4");
    const text = '{"llmbench": "0.1.0"} llmbench sweep; (llmbench history lists past runs) llmbench-ec';
    expect(s.scrub(text)).toBe(text);
    expect(s.scrub("you sent llmbench-echo-k")).toBe(`you sent ${SCRUBBED}`);
  });

  test("leaves other text alone, including another key that shares the prefix", () => {
    const text = "sk-test-OTHERKEY123 is someone else's; prompt tokens 12, HTTP 500";
    expect(scrubber.scrub(text)).toBe(text);
    expect(new Scrubber().scrub(`Bearer ${KEY}`)).toBe(`Bearer ${KEY}`);
  });

  test("a very short key is removed after Bearer only, not from every word", () => {
    const s = scrubberOf("ab1");
    expect(s.scrub("Authorization: Bearer ab1 refused; tab1 cab1")).toBe(`Authorization: Bearer ${SCRUBBED} refused; tab1 cab1`);
  });

  test("several secrets, in keys and values of a record", () => {
    const s = scrubberOf(KEY, "hf_secrettoken12345");
    const record: Record<string, unknown> = { error: `echo ${KEY}`, hf_secrettoken12345: ["x hf_secrettoken12345 y", 3, null] };
    expect(s.scrubValue(record)).toEqual({
      error: `echo ${SCRUBBED}`,
      [SCRUBBED]: [`x ${SCRUBBED} y`, 3, null],
    });
  });

  test("the launch config's secret values are the ones redaction hides", () => {
    expect(
      secretValues({ HF_TOKEN: "hf_abc12345", CUDA_VISIBLE_DEVICES: "0" }, ["vllm", "--api-key", "sk-launch-1", "--port", "8000", "--auth=token-xyz"]),
    ).toEqual(["hf_abc12345", "sk-launch-1", "token-xyz"]);
  });
});
