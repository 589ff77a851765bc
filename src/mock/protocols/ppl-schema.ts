import type * as protoLoader from "@grpc/proto-loader";

/**
 * ppl.llm.serving's messages as the simulator knows them, written here from the field table in
 * the protocol notes rather than loaded from proto/: the simulator is the other side of the wire,
 * so a wrong field number in the client's .proto shows up as a failing test, not a shared mistake.
 */

type Fields = Record<string, { type: string; id: number; rule?: "repeated" }>;

const shared: Record<string, unknown> = {
  LLMService: {
    methods: { Generation: { requestType: "BatchedRequest", responseType: "BatchedResponse", responseStream: true } },
  },
  Tokens: { fields: { ids: { rule: "repeated", type: "uint32", id: 1 } } satisfies Fields },
  StoppingCriteriaParameters: {
    fields: { max_new_tokens: { type: "uint32", id: 1 }, stop_tokens: { type: "Tokens", id: 2 }, ignore_eos_token: { type: "bool", id: 3 } } satisfies Fields,
  },
  BatchedRequest: { fields: { req: { rule: "repeated", type: "Request", id: 1 } } satisfies Fields },
  BatchedResponse: { fields: { rsp: { rule: "repeated", type: "Response", id: 1 } } satisfies Fields },
  Status: { values: { PROCESSING: 0, FINISHED: 1, FAILED: 2 } },
};

const v2: Record<string, unknown> = {
  ...shared,
  NextTokenChooserParameters: {
    fields: {
      temperature: { type: "float", id: 1 }, top_k: { type: "uint32", id: 2 }, top_p: { type: "float", id: 3 },
      typical_p: { type: "float", id: 4 }, do_sample: { type: "bool", id: 5 }, seed: { type: "uint64", id: 6 },
      repetition_penalty: { type: "float", id: 7 }, presence_penalty: { type: "float", id: 8 },
      frequency_penalty: { type: "float", id: 9 }, watermark: { type: "bool", id: 10 },
    } satisfies Fields,
  },
  Request: {
    fields: {
      id: { type: "uint64", id: 1 }, prompt: { type: "string", id: 2 }, tokens: { type: "Tokens", id: 3 },
      choosing_parameters: { type: "NextTokenChooserParameters", id: 4 }, stopping_parameters: { type: "StoppingCriteriaParameters", id: 5 },
    } satisfies Fields,
  },
  FinishReason: { values: { FINISH_REASON_LENGTH: 0, FINISH_REASON_EOS_TOKEN: 1, FINISH_REASON_STOP_SEQUENCE: 2 } },
  Detail: { fields: { logprobs: { type: "float", id: 1 }, is_special: { type: "bool", id: 2 }, finish_reason: { type: "FinishReason", id: 3 } } satisfies Fields },
  Response: {
    fields: {
      status: { type: "Status", id: 1 }, id: { type: "uint64", id: 2 }, generated: { type: "string", id: 3 },
      tokens: { type: "Tokens", id: 4 }, detail: { type: "Detail", id: 5 },
    } satisfies Fields,
  },
};

const v1: Record<string, unknown> = {
  ...shared,
  Request: {
    fields: {
      id: { type: "uint64", id: 1 }, temperature: { type: "float", id: 2 }, prompt: { type: "string", id: 3 },
      tokens: { type: "Tokens", id: 4 }, stopping_parameters: { type: "StoppingCriteriaParameters", id: 5 },
    } satisfies Fields,
  },
  Response: {
    fields: { status: { type: "Status", id: 1 }, id: { type: "uint64", id: 2 }, generated: { type: "string", id: 3 }, tokens: { type: "Tokens", id: 4 } } satisfies Fields,
  },
};

/** The schema of one message version, as protobufjs JSON for protoLoader.fromJSON. */
export function pplSchema(version: "v1" | "v2"): Parameters<typeof protoLoader.fromJSON>[0] {
  const messages = version === "v1" ? v1 : v2;
  return { options: { syntax: "proto3" }, nested: { ppl: { nested: { llm: { nested: { proto: { nested: messages } } } } } } } as Parameters<typeof protoLoader.fromJSON>[0];
}
