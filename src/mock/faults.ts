import type { StreamFormat, TokenSink } from "./stream-types.ts";
import type { StreamWriter } from "./http-stream.ts";
import type { TruthEntry } from "./truth-log.ts";

/**
 * The fault matrix: `--faults http500:0.1,reset:0.05,...` gives each generation request a fault
 * (or none) on a schedule fixed by `--fault-seed`: the n-th generation request the server gets
 * draws the same fault in every run. The truth log names the fault each request got.
 */

export const FAULTS = {
  "close": "close the connection (FIN) before answering",
  "reset": "reset the connection (RST) mid-stream",
  "stall-headers": "never answer: no status line, no headers",
  "stall-body": "send the headers, then nothing",
  "stall-mid": "stop sending mid-stream, connection left open",
  "slow-headers": "answer normally after --fault-delay-ms",
  "malformed": "one event mid-stream is not valid JSON",
  "no-done": "the stream ends without its end marker ([DONE]) and without a finish reason",
  "error-event": "the protocol's error event mid-stream",
  "not-stream": "200 with a JSON body instead of an event stream",
  "echo-auth": "401 whose body echoes the request's Authorization header",
  "echo-auth-stream": "error event mid-stream that echoes the request's Authorization header",
  "httpN": "HTTP status N (400..599) with a JSON error body, e.g. http500, http429, http503",
} as const;

export type FaultName = Exclude<keyof typeof FAULTS, "httpN"> | `http${number}`;

/** The faults the gRPC protocol (ppl) can do; the others are HTTP things. */
export const GRPC_FAULTS: ReadonlySet<string> = new Set(["close", "reset", "stall-headers", "stall-mid", "slow-headers", "error-event"]);

export interface FaultShare {
  name: FaultName;
  probability: number;
}

export interface FaultPlan {
  /** Fault for each request by arrival order; empty: none. */
  shares: FaultShare[];
  seed: number;
  /** How long slow-headers waits before answering. */
  delayMs: number;
  /** The first this many generation requests draw none (a health check's one-token request). */
  skip: number;
}

export const NO_FAULTS: FaultPlan = { shares: [], seed: 0, delayMs: 1000, skip: 0 };

/** `name:probability,...` as given to --faults; a message naming what is wrong otherwise. */
export function parseFaultList(text: string): FaultShare[] | string {
  const shares: FaultShare[] = [];
  for (const item of text.split(",").map((part) => part.trim()).filter((part) => part !== "")) {
    const [name, probabilityText, extra] = item.split(":");
    if (extra !== undefined || probabilityText === undefined) return `expected name:probability, got "${item}"`;
    const status = /^http(\d{3})$/.exec(name!);
    if (!(name! in FAULTS) || name === "httpN") {
      if (!status) return `unknown fault "${name}"; known: ${Object.keys(FAULTS).join(", ")}`;
      if (Number(status[1]) < 400 || Number(status[1]) > 599) return `"${name}": the status must be 400..599`;
    }
    const probability = Number(probabilityText);
    if (!Number.isFinite(probability) || probability < 0 || probability > 1) return `"${item}": the probability must be a number in 0..1`;
    if (shares.some((share) => share.name === name)) return `"${name}" is given twice`;
    shares.push({ name: name as FaultName, probability });
  }
  const total = shares.reduce((sum, share) => sum + share.probability, 0);
  if (total > 1 + 1e-9) return `the probabilities add up to ${total}, more than 1`;
  return shares;
}

/** Draws the fault of each request by its arrival index. */
export class FaultSchedule {
  private next = 0;

  constructor(private readonly plan: FaultPlan) {}

  get active(): boolean {
    return this.plan.shares.length > 0;
  }

  get delayMs(): number {
    return this.plan.delayMs;
  }

  /** The next request's fault, or null. */
  draw(): FaultName | null {
    if (!this.active) return null;
    const index = this.next++;
    if (index < this.plan.skip) return null;
    let u = uniform(this.plan.seed, index);
    for (const share of this.plan.shares) {
      if (u < share.probability) return share.name;
      u -= share.probability;
    }
    return null;
  }
}

/** A uniform [0, 1) number fixed by (seed, index): murmur3's finalizer over both. */
function uniform(seed: number, index: number): number {
  let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
  for (let round = 0; round < 2; round++) {
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

/** A fault that strikes inside a stream, after some tokens. */
export type StreamFaultName = "reset" | "stall-body" | "stall-mid" | "malformed" | "no-done" | "error-event" | "echo-auth-stream" | "slow-headers";

export function isStreamFault(name: FaultName): name is StreamFaultName {
  return ["reset", "stall-body", "stall-mid", "malformed", "no-done", "error-event", "echo-auth-stream", "slow-headers"].includes(name);
}

/** What the serving layer knows of a request whose stream a fault will strike. */
export interface StreamFault {
  name: StreamFaultName;
  /** When the request really arrived (epoch ms): slow-headers answers later. */
  arrivalMs: number;
  authorization: string;
}

const streamFaults = new WeakMap<Request, StreamFault>();

export function planStreamFault(request: Request, fault: StreamFault): void {
  streamFaults.set(request, fault);
}

/** Mid-stream faults strike after this many of the answer's tokens (the headers-only stall after none). */
export function faultPoint(name: StreamFaultName, outputTokens: number): number {
  if (name === "stall-body") return 0;
  return Math.max(1, Math.floor(outputTokens / 2));
}

/**
 * The sink a request's planned stream fault (if any) runs through: the tokens before the fault
 * point go out as usual, then the fault strikes. Requests without one get `sink` itself.
 */
export function faultySink(request: Request, sink: TokenSink, out: StreamWriter, format: StreamFormat, outputTokens: number): TokenSink {
  const fault = streamFaults.get(request);
  if (!fault) return sink;
  const name = fault.name;
  const point = faultPoint(name, outputTokens);
  let struck = name === "slow-headers" ? null : false;
  /** Strikes the fault; returns whether the stream goes on afterwards. */
  const strike = (): boolean => {
    struck = true;
    switch (name) {
      case "reset":
        out.reset();
        return false;
      case "stall-body":
      case "stall-mid":
        return false; // nothing more is sent; the connection stays open until the client gives up
      case "malformed":
        out.write('data: {"choices": [{"text": "a malformed event, its JSON never closes"\n\n');
        return true;
      case "error-event":
        sink.fail("simulated error event (--faults error-event)");
        return false;
      case "echo-auth-stream":
        sink.fail(`simulated error (--faults echo-auth-stream): rejected Authorization: ${fault.authorization}`);
        return false;
      default:
        return true;
    }
  };
  let ended: "clean" | "hold" | null = null;
  return {
    write(texts, first, finished) {
      if (struck === false && name !== "no-done" && first >= point) {
        if (!strike()) {
          ended = name === "error-event" || name === "echo-auth-stream" ? "clean" : "hold";
          return false;
        }
      }
      if (name === "no-done" && finished) {
        struck = true;
        // The last tokens as if more were coming, then the end of the body: no finish reason, no [DONE].
        return out.write(format.tokens(texts, first, false));
      }
      return sink.write(texts, first, finished);
    },
    fail: sink.fail,
    end(status) {
      // An error event ends the stream cleanly; a reset or stall leaves it to the connection.
      sink.end(ended === "clean" ? "failed" : ended === "hold" ? "cancelled" : status);
    },
    truth: (): Partial<TruthEntry> => ({
      fault: name,
      ...(struck === true ? { status: "failed" as const } : {}),
      ...(name === "slow-headers" ? { arrival_ms: fault.arrivalMs } : {}),
    }),
  };
}

interface Http2StreamLike {
  close(code: number): void;
  session?: { socket?: { remoteAddress?: string; remotePort?: number } };
}

/**
 * Lets the gRPC `close` fault drop a call's TCP connection. http2 forbids touching a session's
 * socket, so the server's raw sockets are kept by address as they connect (grpc-js's own
 * http2Servers map holds its listeners). Call once the server is bound.
 */
export function connectionDropper(server: unknown): (call: unknown) => void {
  const sockets = new Map<string, { destroy(): void }>();
  const listeners = (server as { http2Servers?: Map<{ on(event: string, listener: (socket: never) => void): void }, unknown> }).http2Servers;
  for (const listener of listeners?.keys() ?? []) {
    listener.on("connection", (socket: { remoteAddress?: string; remotePort?: number; destroy(): void; once(event: string, listener: () => void): void }) => {
      const key = `${socket.remoteAddress}:${socket.remotePort}`;
      sockets.set(key, socket);
      socket.once("close", () => sockets.delete(key));
    });
  }
  return (call) => {
    const peer = http2StreamOf(call)?.session?.socket;
    sockets.get(`${peer?.remoteAddress}:${peer?.remotePort}`)?.destroy();
  };
}

/** The http2 stream under a grpc-js server call (grpc-js keeps it on the innermost intercepting call). */
export function http2StreamOf(call: unknown): Http2StreamLike | null {
  let inner = (call as { call?: unknown }).call as { stream?: unknown; nextCall?: unknown } | undefined;
  for (let depth = 0; inner && depth < 8; depth++) {
    if (inner.stream) return inner.stream as Http2StreamLike;
    inner = inner.nextCall as typeof inner;
  }
  return null;
}

/** The gRPC form of the mid-stream faults (reset, stall-mid, error-event); other requests get `sink` itself. */
export function grpcFaultySink(name: FaultName | null, sink: TokenSink, reset: () => void, outputTokens: number, arrivalMs: number): TokenSink {
  if (name === null) return sink;
  if (name !== "reset" && name !== "stall-mid" && name !== "error-event") {
    return { ...sink, truth: () => ({ fault: name, ...(name === "slow-headers" ? { arrival_ms: arrivalMs } : {}) }) };
  }
  const point = faultPoint(name, outputTokens);
  let struck = false;
  return {
    write(texts, first, finished) {
      if (!struck && first >= point) {
        struck = true;
        if (name === "reset") reset();
        if (name === "error-event") sink.fail("simulated error event (--faults error-event)");
        return false;
      }
      return sink.write(texts, first, finished);
    },
    fail: sink.fail,
    // After an error the call ends with its status; after a reset or a stall it is left as it is.
    end: (status) => sink.end(struck && name === "error-event" ? "failed" : status),
    truth: () => ({ fault: name, ...(struck ? { status: "failed" as const } : {}) }),
  };
}
