import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { connectionDropper, grpcFaultySink, http2StreamOf } from "../faults.ts";
import { outputLength, runGeneration, tokenId, type MockContext, type TokenSink } from "../generation.ts";
import { epochMs } from "../truth-log.ts";
import type { GrpcMockProtocol } from "./protocol.ts";
import { pplSchema } from "./ppl-schema.ts";

interface PplRequest {
  id: number;
  prompt: string;
  stopping_parameters: { max_new_tokens: number; ignore_eos_token: boolean } | null;
}

/**
 * Like a real tokenizer, some tokens end inside a multi-byte character: the server holds their
 * text back and sends it with the next token, so the held token's `generated` is empty. Token i
 * does that when i % 5 == 3 (never the last one).
 */
function holdsText(index: number, outputTokens: number): boolean {
  return index % 5 === 3 && index < outputTokens - 1;
}

function generation(version: "v1" | "v2", context: MockContext, dropConnection: (call: unknown) => void) {
  return (call: grpc.ServerWritableStream<{ req: PplRequest[] }, unknown>) => {
    if (context.apiKey !== null && call.metadata.get("authorization")[0] !== `Bearer ${context.apiKey}`) {
      call.emit("error", { code: grpc.status.UNAUTHENTICATED, details: "missing or invalid API key" });
      return;
    }
    const requests = call.request.req ?? [];
    const invalid = requests.find((request) => !request.stopping_parameters || request.stopping_parameters.max_new_tokens < 1);
    if (requests.length === 0 || invalid) {
      call.emit("error", { code: grpc.status.INVALID_ARGUMENT, details: "every request needs stopping_parameters.max_new_tokens ≥ 1" });
      return;
    }
    const fault = context.faultSchedule.draw();
    const arrivalMs = epochMs();
    const logged = () =>
      context.truth.append({
        id: context.nextId(), protocol: context.protocol, arrival_ms: arrivalMs, prompt_tokens: 0, cached_tokens: 0, output_tokens: 0,
        token_ms: [], end_ms: epochMs(), status: "failed", fault: fault!, thinking_tokens: 0, tool_call_tokens: 0,
      });
    if (fault === "close") {
      // The connection goes away under the call before it is answered (a server restarting, a proxy dropping it).
      logged();
      dropConnection(call);
      return;
    }
    if (fault === "stall-headers") {
      call.on("cancelled", logged);
      return;
    }
    const start = () => answer(call, requests, version, context, fault, arrivalMs);
    if (fault === "slow-headers") setTimeout(start, context.faultSchedule.delayMs);
    else start();
  };
}

function answer(
  call: grpc.ServerWritableStream<{ req: PplRequest[] }, unknown>,
  requests: PplRequest[],
  version: "v1" | "v2",
  context: MockContext,
  fault: ReturnType<MockContext["faultSchedule"]["draw"]>,
  arrivalMs: number,
): void {
  {
    let open = requests.length;
    const cancels: Array<() => void> = [];
    for (const request of requests) {
      const { max_new_tokens: maxTokens, ignore_eos_token: ignoreEos } = request.stopping_parameters!;
      const outputTokens = outputLength(context, request.prompt, maxTokens, 0, ignoreEos);
      let held = "";
      const sink: TokenSink = {
        write(texts, first, finished) {
          if (call.cancelled) return false;
          texts.forEach((text, i) => {
            const index = first + i;
            let generated = "";
            if (holdsText(index, outputTokens)) held += text;
            else [generated, held] = [held + text, ""];
            const last = finished && i === texts.length - 1;
            const response: Record<string, unknown> = { status: last ? "FINISHED" : "PROCESSING", id: request.id, generated, tokens: { ids: [tokenId(index)] } };
            if (version === "v2") response.detail = { logprobs: -0.1, is_special: false, finish_reason: outputTokens === maxTokens ? "FINISH_REASON_LENGTH" : "FINISH_REASON_EOS_TOKEN" };
            call.write({ rsp: [response] });
          });
          return true;
        },
        fail(message) {
          if (!call.cancelled) call.write({ rsp: [{ status: "FAILED", id: request.id, generated: message }] });
        },
        end(status) {
          open--;
          if (open === 0 && status !== "cancelled" && !call.cancelled) call.end();
        },
      };
      const reset = () => http2StreamOf(call)?.close(2 /* NGHTTP2_INTERNAL_ERROR */);
      cancels.push(runGeneration(context, request.prompt, outputTokens, grpcFaultySink(fault, sink, reset, outputTokens, arrivalMs)));
    }
    call.on("cancelled", () => cancels.forEach((cancel) => cancel()));
  }
}

function pplProtocol(name: string, version: "v1" | "v2"): GrpcMockProtocol {
  return {
    kind: "grpc",
    name,
    async serve(host, port, context) {
      const definition = protoLoader.fromJSON(pplSchema(version), { keepCase: true, longs: Number, enums: String, defaults: true });
      const root = grpc.loadPackageDefinition(definition) as unknown as { ppl: { llm: { proto: { LLMService: grpc.ServiceClientConstructor } } } };
      const server = new grpc.Server();
      let dropConnection: (call: unknown) => void = () => {};
      server.addService(root.ppl.llm.proto.LLMService.service, { Generation: generation(version, context, (call) => dropConnection(call)) });
      const address = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
      const bound = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, actual) => (error ? reject(error) : resolve(actual))),
      );
      dropConnection = connectionDropper(server);
      return {
        port: bound,
        stop: async () => server.forceShutdown(),
      };
    },
  };
}

/** ppl.llm.serving's gRPC LLMService with the current ("v2") messages. */
export const pplV2Protocol = pplProtocol("ppl", "v2");
/** The same with the older ("v1") messages. */
export const pplV1Protocol = pplProtocol("ppl-v1", "v1");
