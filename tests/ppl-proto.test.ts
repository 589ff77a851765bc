import { describe, expect, test } from "bun:test";
import { pplBatchedRequest, pplServiceClient } from "../src/backends/ppl-messages.ts";

/**
 * The client's proto files against the field table of ppl.llm.serving, byte by byte: a wrong field
 * number or type would still work against a simulator built from the same mistake, not against
 * the real server.
 */

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const request = { id: 7, messages: [{ role: "user" as const, content: "hi" }], outputLen: 5 };

describe("ppl messages on the wire", () => {
  test("v2 BatchedRequest: prompt = 2, choosing_parameters = 4, stopping_parameters = 5", () => {
    const generation = pplServiceClient("v2").service.Generation!;
    const expected = [
      "0a21", //             BatchedRequest.req (1), 33 bytes
      "0807", //               Request.id (1) = 7
      "12026869", //           Request.prompt (2) = "hi"
      "2213", //               Request.choosing_parameters (4), 19 bytes
      "0d00000000", //           temperature (1, float) = 0
      "1001", //                 top_k (2) = 1
      "1d00000000", //           top_p (3, float) = 0
      "2800", //                 do_sample (5) = false
      "3d0000803f", //           repetition_penalty (7, float) = 1.0
      "2a04", //               Request.stopping_parameters (5), 4 bytes
      "0805", //                 max_new_tokens (1) = 5
      "1801", //                 ignore_eos_token (3) = true
    ].join("");
    expect(hex(generation.requestSerialize(pplBatchedRequest("v2", request)))).toBe(expected);
  });

  test("v1 BatchedRequest: temperature = 2, prompt = 3, stopping_parameters = 5", () => {
    const generation = pplServiceClient("v1").service.Generation!;
    const expected = [
      "0a11", //             BatchedRequest.req (1), 17 bytes
      "0807", //               Request.id (1) = 7
      "1500000000", //         Request.temperature (2, float) = 0
      "1a026869", //           Request.prompt (3) = "hi"
      "2a0408051801", //       Request.stopping_parameters (5): max_new_tokens 5, ignore_eos_token true
    ].join("");
    expect(hex(generation.requestSerialize(pplBatchedRequest("v1", request)))).toBe(expected);
  });

  test("v2 BatchedResponse: status = 1, id = 2, generated = 3, tokens = 4, detail.finish_reason = 3", () => {
    const generation = pplServiceClient("v2").service.Generation!;
    const bytes = Buffer.from(
      [
        "0a10", //          BatchedResponse.rsp (1), 16 bytes
        "0801", //            status (1) = FINISHED
        "1007", //            id (2) = 7
        "1a00", //            generated (3) = "" (a held-back partial character)
        "22040a02c301", //    tokens (4): ids (1, packed) = [195]
        "2a021801", //        detail (5): finish_reason (3) = FINISH_REASON_EOS_TOKEN
      ].join(""),
      "hex",
    );
    const message = generation.responseDeserialize(bytes) as { rsp: Array<Record<string, unknown>> };
    expect(message.rsp.length).toBe(1);
    expect(message.rsp[0]).toMatchObject({
      status: "FINISHED",
      id: 7,
      generated: "",
      tokens: { ids: [195] },
      detail: { finish_reason: "FINISH_REASON_EOS_TOKEN" },
    });
  });

  test("a PROCESSING response leaves status out (proto3 default) and still decodes as PROCESSING", () => {
    const generation = pplServiceClient("v1").service.Generation!;
    // rsp: id (2) = 3, generated (3) = "é"
    const message = generation.responseDeserialize(Buffer.from("0a0610031a02c3a9", "hex")) as { rsp: Array<Record<string, unknown>> };
    expect(message.rsp[0]).toMatchObject({ status: "PROCESSING", id: 3, generated: "é" });
  });
});
