/**
 * A streamed answer as the simulator's HTTP server sends it: the Response carries the status and
 * headers (sent at once), and a starter that writes the body straight to the connection, with no
 * stream object between a token and its socket write.
 */

/** The body of one streamed answer, written chunk by chunk. */
export interface StreamWriter {
  /** Sends `text` now; false when the client has gone. */
  write(text: string): boolean;
  /** The body is complete. */
  close(): void;
  /** Faults: reset the connection (RST) mid-stream. */
  reset(): void;
  /** Faults: close the connection (FIN) mid-stream, without ending the body. */
  hangUp(): void;
}

export type StreamStarter = (writer: StreamWriter, request: Request) => void;

const starters = new WeakMap<Response, StreamStarter>();

/** A streamed answer with these headers, whose body `start` writes once the headers are out. */
export function streamingResponse(headers: Record<string, string>, start: StreamStarter, status = 200): Response {
  const response = new Response(null, { status, headers });
  starters.set(response, start);
  return response;
}

export function streamStarterOf(response: Response): StreamStarter | undefined {
  return starters.get(response);
}
