import http2 from "node:http2";
import type { Backend, BackendDefinition, GenerationOutcome } from "./backend.ts";
import { checkByOneToken } from "./http-generation.ts";
import { decodeBatchedResponse, encodeBatchedRequest, grpcFrame, PplResponseReader, WireError, type PplProtoVersion } from "./ppl-wire.ts";
import { StreamState } from "./stream-state.ts";

/**
 * OpenPPL ppl.llm.serving over gRPC: LLMService.Generation streams one BatchedResponse per token.
 * `--base-url host:port` (no scheme, as the seed writes it), plain-text HTTP/2, the key (if any)
 * as `authorization` metadata, v2 messages unless `--ppl-proto v1`. One HTTP/2 connection carries
 * every request (it multiplexes them), opened again when it goes away.
 *
 * gRPC is spoken directly on node:http2, the messages read from the bytes (ppl-wire.ts) with the
 * arrival time of the chunk that completed each: grpc-js's layers cost several times the CPU per
 * message. Errors are named as grpc-js names them; ppl-reference.ts is that client, for tests.
 */
export const pplBackend: BackendDefinition = {
  name: "ppl",
  address: "host-port",
  defaultBaseUrl: "127.0.0.1:23333",
  defaultApiKeyEnv: null,
  create(options) {
    const version: PplProtoVersion = options.pplProto ?? "v2";
    const channel = new PplChannel(options.baseUrl);
    const headers: http2.OutgoingHttpHeaders = {
      ":method": "POST",
      ":path": "/ppl.llm.proto.LLMService/Generation",
      "content-type": "application/grpc",
      te: "trailers",
    };
    if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;

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
        const connection = channel.connection();
        let stream: http2.ClientHttp2Stream;
        try {
          stream = connection.session.request(headers);
        } catch (error) {
          // The session closed under us between the check and the request.
          return resolve(mayRetry ? "retry" : (state.fail(`gRPC UNAVAILABLE: ${(error as Error).message}`), state.finish()));
        }
        let answered = false;
        let httpStatus = 0;
        let grpcStatus: number | null = null;
        let grpcMessage = "";
        let settled = false;
        const settle = (action: () => void) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          action();
        };
        const onAbort = () => {
          settle(() => reject(signal.reason));
          stream.close(http2.constants.NGHTTP2_CANCEL);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        const readStatus = (fields: http2.IncomingHttpHeaders) => {
          const status = fields["grpc-status"];
          if (status === undefined) return;
          grpcStatus = Number(status);
          grpcMessage = decodeGrpcMessage(fields["grpc-message"]);
        };
        stream.on("response", (fields) => {
          answered = true;
          httpStatus = Number(fields[":status"]);
          readStatus(fields); // a trailers-only answer carries the status in its headers
        });
        stream.on("data", (chunk: Uint8Array) => {
          answered = true;
          if (settled) return;
          try {
            reader.push(chunk, performance.now());
          } catch (error) {
            if (!(error instanceof WireError)) throw error;
            grpcStatus = GRPC_INTERNAL;
            grpcMessage = `Response message parsing error: ${error.message}`;
            stream.close(http2.constants.NGHTTP2_CANCEL);
          }
        });
        stream.on("trailers", readStatus);
        stream.on("error", () => {}); // what went wrong is read at "close"
        const end = () =>
          settle(() => {
            const failure = callFailure(httpStatus, grpcStatus, grpcMessage, stream.rstCode ?? 0, connection);
            if (failure === null) return resolve(state.finish());
            if (mayRetry && !answered && failure.code === GRPC_UNAVAILABLE) return resolve("retry");
            state.fail(`gRPC ${GRPC_STATUS_NAMES[failure.code] ?? failure.code}: ${failure.details}`);
            resolve(state.finish());
          });
        // A stream that ends without a status may be one whose connection dropped: its streams close
        // before the session says so, so look one turn of the event loop later (as grpc-js does).
        stream.on("close", () => (grpcStatus === null ? setImmediate(end) : end()));
        stream.end(grpcFrame(encodeBatchedRequest(version, request)));
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
function callFailure(httpStatus: number, grpcStatus: number | null, grpcMessage: string, rstCode: number, connection: Connection): { code: number; details: string } | null {
  if (grpcStatus !== null) return grpcStatus === 0 ? null : { code: grpcStatus, details: grpcMessage };
  if (!connection.up && connection.error !== null) return { code: GRPC_UNAVAILABLE, details: `No connection established. Last error: ${connection.error.message}` };
  const dropped = connection.dropped || connection.session.destroyed;
  if (dropped && rstCode !== http2.constants.NGHTTP2_REFUSED_STREAM) return { code: GRPC_UNAVAILABLE, details: "Connection dropped" };
  switch (rstCode) {
    case http2.constants.NGHTTP2_NO_ERROR:
      if (httpStatus !== 0 && httpStatus !== 200) return httpStatusFailure(httpStatus);
      return { code: GRPC_INTERNAL, details: `Received RST_STREAM with code ${rstCode} (Call ended without gRPC status)` };
    case http2.constants.NGHTTP2_REFUSED_STREAM:
      return { code: GRPC_UNAVAILABLE, details: "Stream refused by server" };
    case http2.constants.NGHTTP2_CANCEL:
      return { code: 1, details: "Call cancelled" };
    case http2.constants.NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: 8, details: "Bandwidth exhausted or memory limit exceeded" };
    case http2.constants.NGHTTP2_INADEQUATE_SECURITY:
      return { code: 7, details: "Protocol not secure enough" };
    case http2.constants.NGHTTP2_INTERNAL_ERROR:
      return { code: GRPC_INTERNAL, details: `Received RST_STREAM with code ${rstCode} (Internal server error)` };
    default:
      return { code: GRPC_INTERNAL, details: `Received RST_STREAM with code ${rstCode}` };
  }
}

function httpStatusFailure(status: number): { code: number; details: string } {
  const codes: Record<number, number> = { 400: GRPC_INTERNAL, 401: 16, 403: 7, 404: 12, 429: GRPC_UNAVAILABLE, 502: GRPC_UNAVAILABLE, 503: GRPC_UNAVAILABLE, 504: GRPC_UNAVAILABLE };
  return { code: codes[status] ?? 2, details: `Received HTTP status code ${status}` };
}

/** One HTTP/2 connection and what became of it: calls on it learn whether it dropped under them. */
interface Connection {
  session: http2.ClientHttp2Session;
  /** The connection went away (socket closed or failed) rather than being closed by us. */
  dropped: boolean;
  /** It came up (the server's SETTINGS arrived). */
  up: boolean;
  /** Why it failed, when it did. */
  error: Error | null;
}

/** The channel: one HTTP/2 connection to host:port at a time, opened on first use and again after it goes away. */
class PplChannel {
  private current: Connection | null = null;
  private closed = false;

  constructor(private readonly address: string) {}

  connection(): Connection {
    const current = this.current;
    if (current !== null && !current.session.closed && !current.session.destroyed && !current.dropped) return current;
    if (this.closed) throw new Error("the gRPC channel is closed");
    const session = http2.connect(`http://${this.address}`);
    const connection: Connection = { session, dropped: false, up: false, error: null };
    const drop = () => {
      connection.dropped = true;
      if (this.current === connection) this.current = null;
    };
    session.on("connect", () => (connection.up = true));
    session.on("error", (error: Error) => {
      connection.error ??= error;
      drop();
    });
    session.on("close", drop);
    session.on("goaway", () => {
      if (this.current === connection) this.current = null; // calls under way finish; new ones go on a fresh connection
    });
    this.current = connection;
    return connection;
  }

  /** Resolves once the connection is up; rejects when it failed or the signal aborted. */
  connected(signal: AbortSignal): Promise<void> {
    const { session, up } = this.connection();
    if (up) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const done = (error?: unknown) => {
        session.off("connect", onConnect);
        session.off("error", onError);
        signal.removeEventListener("abort", onAbort);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onConnect = () => done();
      const onError = (error: Error) => done(error);
      const onAbort = () => done(signal.reason);
      session.once("connect", onConnect);
      session.once("error", onError);
      signal.addEventListener("abort", onAbort, { once: true });
    });
  }

  close(): void {
    this.closed = true;
    this.current?.session.close();
    this.current = null;
  }
}
