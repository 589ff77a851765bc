import type { Backend, GenerationRequest } from "../backends/backend.ts";
import type { RequestRecord } from "../records/record.ts";
import { requestLatency, type TokenEvent } from "../metrics/request-latency.ts";

export interface RequestIdentity {
  user: number;
  seq: number;
  promptIndex: number;
  inTokens: number;
}

/**
 * Sends one request through the backend and turns what happened into a record. Timing starts just
 * before the request goes out; every token event is kept with its offset from then. Never
 * rejects: a cancelled or timed-out request is a failed record with the reason.
 */
export async function measureRequest(
  backend: Backend,
  request: GenerationRequest,
  identity: RequestIdentity,
  signal: AbortSignal,
): Promise<RequestRecord> {
  const events: Array<[number, number]> = [];
  let streamedTokens = 0;
  const sendAt = performance.now();
  const sendMs = performance.timeOrigin + sendAt;
  let error: string | null = null;
  let serverOutTokens: number | null = null;
  let serverInTokens: number | null = null;
  let finishReason: string | null = null;
  try {
    const outcome = await backend.generate(
      request,
      (at, tokens) => {
        if (tokens <= 0) return;
        events.push([at - sendAt, tokens]);
        streamedTokens += tokens;
      },
      signal,
    );
    ({ error, serverOutTokens, finishReason } = outcome);
    serverInTokens = outcome.serverPromptTokens;
  } catch (thrown) {
    error = signal.aborted ? reasonText(signal.reason) : `client error: ${(thrown as Error)?.message ?? thrown}`;
  }
  const doneMs = performance.now() - sendAt;
  const outTokens = serverOutTokens ?? streamedTokens;
  const latency = error === null ? requestLatency(events as TokenEvent[], outTokens) : null;
  if (error === null && latency === null) error = "no output tokens";
  return {
    user: identity.user,
    seq: identity.seq,
    prompt_index: identity.promptIndex,
    send_ms: sendMs,
    status: error === null ? "ok" : "failed",
    error,
    in_tokens: identity.inTokens,
    server_in_tokens: serverInTokens,
    out_tokens: outTokens,
    asked_out_tokens: request.outputLen,
    ttft_ms: latency?.ttft ?? null,
    e2e_ms: latency?.e2e ?? null,
    done_ms: doneMs,
    events,
    finish_reason: finishReason,
  };
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
