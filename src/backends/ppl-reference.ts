import * as grpc from "@grpc/grpc-js";
import type { Backend, BackendDefinition, GenerationOutcome } from "./backend.ts";
import { checkByOneToken } from "./http-generation.ts";
import { pplBatchedRequest, pplDecoder, pplServiceClient, type PplBatchedResponse } from "./ppl-messages.ts";
import { StreamState } from "./stream-state.ts";

/**
 * The reference ppl client, on grpc-js + proto-loader: what the fast client (ppl.ts) must agree
 * with, kept for tests (tests/ppl-wire.test.ts); `llmbench` itself runs ppl.ts.
 *
 * OpenPPL ppl.llm.serving over gRPC: LLMService.Generation streams one BatchedResponse per token.
 * `--base-url host:port` (no scheme, as the seed writes it), an insecure channel, the key (if any)
 * as `authorization` metadata, v2 messages unless `--ppl-proto v1`. One channel carries every
 * request: HTTP/2 multiplexes them.
 */
export const pplReferenceBackend: BackendDefinition = {
  name: "ppl",
  address: "host-port",
  defaultBaseUrl: "127.0.0.1:23333",
  defaultApiKeyEnv: null,
  create(options) {
    const version = options.pplProto ?? "v2";
    const Service = pplServiceClient(version);
    const client = new Service(options.baseUrl, grpc.credentials.createInsecure());
    const metadata = new grpc.Metadata();
    if (options.apiKey) metadata.set("authorization", `Bearer ${options.apiKey}`);

    /**
     * One call. `retry` is set when the call failed UNAVAILABLE before the server sent anything
     * (neither metadata nor a message): the channel had gone away, and the server never saw it.
     */
    const call = (
      request: Parameters<Backend["generate"]>[0],
      onTokens: Parameters<Backend["generate"]>[1],
      signal: AbortSignal,
      onRawEvent: Parameters<Backend["generate"]>[3],
      mayRetry: boolean,
    ) =>
      new Promise<GenerationOutcome | "retry">((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason);
        const state = new StreamState(onTokens);
        const decode = pplDecoder(state);
        const stream = client.Generation(pplBatchedRequest(version, request), metadata) as grpc.ClientReadableStream<PplBatchedResponse>;
        let answered = false;
        let settled = false;
        const settle = (action: () => void) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          action();
        };
        const onAbort = () => {
          settle(() => reject(signal.reason));
          stream.cancel();
        };
        signal.addEventListener("abort", onAbort, { once: true });
        stream.on("metadata", () => {
          answered = true;
        });
        stream.on("data", (message: PplBatchedResponse) => {
          answered = true;
          const at = performance.now();
          onRawEvent?.(at, JSON.stringify(message));
          if (!state.over) decode(message, at);
        });
        // grpc-js emits "error" (with the status) before "end" when a call fails.
        stream.on("error", (error: grpc.ServiceError) =>
          settle(() => {
            if (mayRetry && !answered && error.code === grpc.status.UNAVAILABLE) return resolve("retry");
            state.fail(describeGrpcError(error));
            resolve(state.finish());
          }),
        );
        stream.on("end", () => settle(() => resolve(state.finish())));
      });

    const generate: Backend["generate"] = async (request, onTokens, signal, onRawEvent, send) => {
      const outcome = await call(request, onTokens, signal, onRawEvent, true);
      if (outcome !== "retry") return outcome;
      // grpc-js re-establishes the channel by itself; the call goes once more on it.
      if (send) {
        send.reconnected = true;
        send.sentAt = performance.now();
      }
      return (await call(request, onTokens, signal, onRawEvent, false)) as GenerationOutcome;
    };

    return {
      name: "ppl",
      generate,
      async checkHealth(signal) {
        await waitForConnection(client, signal);
        await checkByOneToken(generate, signal);
      },
      close: () => client.close(),
    };
  },
};

/**
 * Waits until the channel is connected, or has failed to connect (the one-token request that
 * follows then reports why), or the signal aborts.
 */
async function waitForConnection(client: grpc.Client, signal: AbortSignal): Promise<void> {
  const channel = client.getChannel();
  for (;;) {
    const state = channel.getConnectivityState(true);
    if (state === grpc.connectivityState.READY || state === grpc.connectivityState.TRANSIENT_FAILURE) return;
    if (state === grpc.connectivityState.SHUTDOWN) throw new Error("the gRPC channel is closed");
    if (signal.aborted) throw signal.reason;
    await new Promise<void>((resolve) => channel.watchConnectivityState(state, Date.now() + 250, () => resolve()));
  }
}

function describeGrpcError(error: grpc.ServiceError): string {
  const code = grpc.status[error.code] ?? String(error.code);
  return `gRPC ${code}: ${error.details || error.message}`;
}
