import type { Backend, BackendDefinition, GenerationOutcome } from "./backend.ts";
import { checkByOneToken } from "./http-generation.ts";
import { decodeBatchedResponse, encodeBatchedRequest, grpcFrame, PplResponseReader, WireError, type PplProtoVersion } from "./ppl-wire.ts";
import { StreamState } from "./stream-state.ts";
import { H2_CANCEL, H2_INTERNAL_ERROR, H2_NO_ERROR, H2_REFUSED_STREAM, Http2Session, type Http2Stream, requestHeaderBlock, type StreamEnd } from "./transport/http2-client.ts";

/**
 * OpenPPL ppl.llm.serving over gRPC: LLMService.Generation streams one BatchedResponse per token.
 * `--base-url host:port` (no scheme, as the seed writes it), plain-text HTTP/2, the key (if any)
 * as `authorization` metadata, v2 messages unless `--ppl-proto v1`. One HTTP/2 connection carries
 * every request (it multiplexes them), opened again when it goes away.
 *
 * gRPC is spoken directly on a lean HTTP/2 client (transport/http2-client.ts, on Bun.connect), the
 * messages read from the bytes (ppl-wire.ts) with the arrival time of the socket read that
 * completed each: grpc-js's layers, and node:http2's, cost several times the CPU per message.
 * Errors are named as grpc-js names them; ppl-reference.ts is that client, for tests.
 */
export const pplBackend: BackendDefinition = {
  name: "ppl",
  address: "host-port",
  defaultBaseUrl: "127.0.0.1:23333",
  defaultApiKeyEnv: null,
  create(options) {
    const version: PplProtoVersion = options.pplProto ?? "v2";
    const channel = new PplChannel(options.baseUrl);
    const headers: Array<[string, string]> = [
      [":method", "POST"],
      [":scheme", "http"],
      [":path", "/ppl.llm.proto.LLMService/Generation"],
      [":authority", options.baseUrl],
      ["content-type", "application/grpc"],
      ["te", "trailers"],
    ];
    if (options.apiKey) headers.push(["authorization", `Bearer ${options.apiKey}`]);
    const headerBlock = requestHeaderBlock(headers);

    /** One call; "retry" when the connection failed or went away before the server answered anything. */
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
        const raw = onRawEvent ? (buf: Uint8Array, start: number, end: number, at: number) => onRawEvent(at, JSON.stringify(decodeBatchedResponse(buf, start, end, version))) : undefined;
        const reader = new PplResponseReader(version, state, raw);
        let answered = false;
        let headersSeen = false;
        let httpStatus = 0;
        let grpcStatus: number | null = null;
        let grpcMessage = "";
        let settled = false;
        let stream: Http2Stream | null = null;
        const settle = (action: () => void) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          action();
        };
        const onAbort = () => {
          settle(() => reject(signal.reason));
          stream?.cancel(H2_CANCEL);
        };
        const readStatus = (fields: ReadonlyArray<[string, string]>) => {
          for (const [name, value] of fields) {
            if (name === "grpc-status") grpcStatus = Number(value);
            else if (name === "grpc-message") grpcMessage = decodeGrpcMessage(value);
          }
        };
        const session = channel.connection();
        try {
          stream = session.request(headerBlock, grpcFrame(encodeBatchedRequest(version, request)), {
            onHeaders(fields) {
              answered = true;
              if (!headersSeen) {
                headersSeen = true;
                for (const [name, value] of fields) if (name === ":status") httpStatus = Number(value);
              }
              readStatus(fields); // a trailers-only answer carries the status in its headers
            },
            onData(buf, start, end, at) {
              answered = true;
              if (settled) return;
              try {
                reader.push(buf, at, start, end);
              } catch (error) {
                if (!(error instanceof WireError)) throw error;
                grpcStatus = GRPC_INTERNAL;
                grpcMessage = `Response message parsing error: ${error.message}`;
                stream?.cancel(H2_CANCEL);
              }
            },
            onClose(end) {
              settle(() => {
                const failure = callFailure(httpStatus, grpcStatus, grpcMessage, end, session);
                if (failure === null) return resolve(state.finish());
                if (mayRetry && !answered && failure.code === GRPC_UNAVAILABLE) return resolve("retry");
                state.fail(`gRPC ${GRPC_STATUS_NAMES[failure.code] ?? failure.code}: ${failure.details}`);
                resolve(state.finish());
              });
            },
          });
        } catch (error) {
          // The session closed under us between the check and the request.
          return resolve(mayRetry ? "retry" : (state.fail(`gRPC UNAVAILABLE: ${(error as Error).message}`), state.finish()));
        }
        if (!settled) signal.addEventListener("abort", onAbort, { once: true });
      });

    const generate: Backend["generate"] = async (request, onTokens, signal, onRawEvent, send) => {
      const outcome = await call(request, onTokens, signal, onRawEvent, true);
      if (outcome !== "retry") return outcome;
      // The connection had gone away (or never came): the call goes once more on a fresh one.
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
        await channel.connected(signal).catch(() => {}); // the one-token request that follows says why
        await checkByOneToken(generate, signal);
      },
      async preconnect(_connections, { signal }) {
        // HTTP/2 multiplexes every call on one connection: opening it is all there is to do.
        await channel.connected(signal).catch(() => {});
      },
      close: () => channel.close(),
    };
  },
};

const GRPC_INTERNAL = 13;
const GRPC_UNAVAILABLE = 14;
const GRPC_STATUS_NAMES = [
  "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
  "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
];

function decodeGrpcMessage(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(",") : (value ?? "");
  try {
    return decodeURI(text);
  } catch {
    return text;
  }
}

/**
 * How a call ended, as grpc-js reports it (subchannel-call.ts): the server's status when it sent
 * one, else what the HTTP status or the stream's reset code means; null for success.
 */
function callFailure(httpStatus: number, grpcStatus: number | null, grpcMessage: string, end: StreamEnd, session: Http2Session): { code: number; details: string } | null {
  if (grpcStatus !== null) return grpcStatus === 0 ? null : { code: grpcStatus, details: grpcMessage };
  if (!session.wasUp && session.error !== null) return { code: GRPC_UNAVAILABLE, details: `No connection established. Last error: ${session.error.message}` };
  const rstCode = end.rstCode;
  if (end.dropped && rstCode !== H2_REFUSED_STREAM) return { code: GRPC_UNAVAILABLE, details: "Connection dropped" };
  switch (rstCode) {
    case H2_NO_ERROR:
      if (httpStatus !== 0 && httpStatus !== 200) return httpStatusFailure(httpStatus);
      return { code: GRPC_INTERNAL, details: `Received RST_STREAM with code ${rstCode} (Call ended without gRPC status)` };
    case H2_REFUSED_STREAM:
      return { code: GRPC_UNAVAILABLE, details: "Stream refused by server" };
    case H2_CANCEL:
      return { code: 1, details: "Call cancelled" };
    case H2_ENHANCE_YOUR_CALM:
      return { code: 8, details: "Bandwidth exhausted or memory limit exceeded" };
    case H2_INADEQUATE_SECURITY:
      return { code: 7, details: "Protocol not secure enough" };
    case H2_INTERNAL_ERROR:
      return { code: GRPC_INTERNAL, details: `Received RST_STREAM with code ${rstCode} (Internal server error)` };
    default:
      return { code: GRPC_INTERNAL, details: `Received RST_STREAM with code ${rstCode}` };
  }
}

const H2_ENHANCE_YOUR_CALM = 11;
const H2_INADEQUATE_SECURITY = 12;

function httpStatusFailure(status: number): { code: number; details: string } {
  const codes: Record<number, number> = { 400: GRPC_INTERNAL, 401: 16, 403: 7, 404: 12, 429: GRPC_UNAVAILABLE, 502: GRPC_UNAVAILABLE, 503: GRPC_UNAVAILABLE, 504: GRPC_UNAVAILABLE };
  return { code: codes[status] ?? 2, details: `Received HTTP status code ${status}` };
}

/** The channel: one HTTP/2 connection to host:port at a time, opened on first use and again after it goes away. */
class PplChannel {
  private current: Http2Session | null = null;
  private closed = false;
  private readonly host: string;
  private readonly port: number;

  constructor(address: string) {
    const url = new URL(`http://${address}`);
    this.host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = Number(url.port || 80);
  }

  connection(): Http2Session {
    const current = this.current;
    if (current !== null && current.state !== "closed" && !current.goingAway) return current;
    if (this.closed) throw new Error("the gRPC channel is closed");
    const session = new Http2Session(this.host, this.port);
    session.onGone = () => {
      if (this.current === session) this.current = null; // calls under way finish; new ones go on a fresh connection
    };
    this.current = session;
    return session;
  }

  /** Resolves once the connection is up; rejects when it failed or the signal aborted. */
  connected(signal: AbortSignal): Promise<void> {
    const up = this.connection().whenUp();
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      up.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  close(): void {
    this.closed = true;
    this.current?.close();
    this.current = null;
  }
}
