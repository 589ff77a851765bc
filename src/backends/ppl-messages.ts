import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import v1Proto from "../../proto/ppl_v1.proto" with { type: "file" };
import v2Proto from "../../proto/ppl_v2.proto" with { type: "file" };
import type { GenerationRequest } from "./backend.ts";
import { promptText } from "./backend.ts";
import type { StreamState } from "./stream-state.ts";

/** ppl.llm.serving's messages (proto/ppl_v2.proto, proto/ppl_v1.proto, embedded in the binary) and how a stream of them is counted. */

export type PplProtoVersion = "v1" | "v2";

const PROTO_FILES: Record<PplProtoVersion, string> = { v1: v1Proto, v2: v2Proto };

/** Enums as their names, 64-bit ids as numbers, absent fields as their proto3 defaults. */
const LOADER_OPTIONS: protoLoader.Options = { keepCase: true, longs: Number, enums: String, defaults: true, oneofs: true };

/** The LLMService client class of one message version. */
export function pplServiceClient(version: PplProtoVersion): grpc.ServiceClientConstructor {
  const definition = protoLoader.loadSync(PROTO_FILES[version], LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(definition) as unknown as { ppl: { llm: { proto: { LLMService: grpc.ServiceClientConstructor } } } };
  return root.ppl.llm.proto.LLMService;
}

/** One benchmark request as a BatchedRequest: greedy, exactly `outputLen` tokens (ignore EOS). */
export function pplBatchedRequest(version: PplProtoVersion, request: GenerationRequest): Record<string, unknown> {
  const stopping_parameters = { max_new_tokens: request.outputLen, ignore_eos_token: true };
  const prompt = promptText(request.messages);
  if (version === "v1") return { req: [{ id: request.id, temperature: 0, prompt, stopping_parameters }] };
  return {
    req: [{
      id: request.id,
      prompt,
      choosing_parameters: { temperature: 0, top_k: 1, top_p: 0, do_sample: false, repetition_penalty: 1 },
      stopping_parameters,
    }],
  };
}

export interface PplResponse {
  status?: string;
  id?: number;
  generated?: string;
  tokens?: { ids?: number[] } | null;
  detail?: { finish_reason?: string } | null;
}

export interface PplBatchedResponse {
  rsp?: PplResponse[];
}

const FINISH_REASONS: Record<string, string> = {
  FINISH_REASON_LENGTH: "length",
  FINISH_REASON_EOS_TOKEN: "eos_token",
  FINISH_REASON_STOP_SEQUENCE: "stop_sequence",
};

/**
 * Every Response with status PROCESSING or FINISHED is one token, even with empty `generated`
 * (a character split over several tokens is held back until it is whole); FINISHED ends the
 * answer; FAILED carries no token and fails the request.
 */
export function pplDecoder(state: StreamState): (message: PplBatchedResponse, at: number) => void {
  return (message, at) => {
    let tokens = 0;
    let text = "";
    for (const response of message.rsp ?? []) {
      const status = response.status ?? "PROCESSING";
      if (status === "FAILED") {
        state.tokens(at, tokens, text);
        state.fail(`server error: status FAILED${response.generated ? ` (${response.generated})` : ""}`);
        return;
      }
      if (status !== "PROCESSING" && status !== "FINISHED") {
        state.fail(`server error: unknown status ${status}`);
        return;
      }
      tokens++;
      text += response.generated ?? "";
      if (status === "FINISHED") {
        state.finished = true;
        const reason = response.detail?.finish_reason;
        // An enum value this proto does not know comes as its number: recorded as its digits.
        state.outcome.finishReason = reason === undefined ? "finished" : (FINISH_REASONS[reason] ?? String(reason));
      }
    }
    state.tokens(at, tokens, text);
  };
}
