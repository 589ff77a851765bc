/** The shapes generation.ts writes tokens through; a module of their own so that faults.ts can wrap them without importing generation back. */
import type { TruthEntry } from "./truth-log.ts";

/** Where one generation's tokens go: an HTTP stream or a gRPC call. */
export interface TokenSink {
  /** Writes one event carrying `texts` (tokens `first` … first+texts.length−1); false when the client has gone. */
  write(texts: string[], first: number, finished: boolean): boolean;
  /** Writes the protocol's error report (a fault). */
  fail(message: string): void;
  /** The generation is over (finished, failed or cancelled): end the response. */
  end(status: TruthEntry["status"]): void;
  /** What the truth log should say beyond the timings (a fault that struck this request). */
  truth?(): Partial<TruthEntry>;
}

export interface StreamFormat {
  /** Bytes written as soon as the request arrives, before any token (vLLM's chat role chunk). */
  prelude?: string;
  /** The bytes of one event carrying `texts` (tokens first … first+texts.length−1); `finished` on the last. */
  tokens(texts: string[], first: number, finished: boolean): string;
  /** Bytes after the last token event (usage, [DONE]), if any. */
  end(): string;
  /** The protocol's mid-stream error report (and whatever ends the stream after it). */
  error(message: string): string;
}
