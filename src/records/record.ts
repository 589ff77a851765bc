import type { MeasuredEvents } from "../metrics/request-latency.ts";

/** One request as the client saw it. Written as one JSON line to requests.jsonl when it finishes. */
export interface RequestRecord {
  /** Virtual user that sent it (closed loop); in rate mode the request's index. */
  user: number;
  /** Index of this request in the user's own sequence (0 in rate mode). */
  seq: number;
  /** The conversation it belongs to ("user.n" in closed loop, the request index in rate mode). */
  conversation: string;
  /** Turn of the conversation, from 0. */
  turn: number;
  /** Which dataset entry the prompt came from. */
  prompt_index: number;
  /** False only for a request that arrived but was never sent (rate mode: still queued at the stop). */
  sent: boolean;
  /** Wall-clock time just before the request went out (epoch ms, fractional); its arrival when never sent. */
  send_ms: number;
  /**
   * The first send found its kept-alive connection closed by the server (nothing answered): it went
   * once more on a fresh connection, and send_ms and every offset count from that send.
   */
  reconnected: boolean;
  /**
   * ms this request spent opening its connection (TCP, TLS) before it went out; null when it went
   * on a kept-alive or preconnected connection (no connect of its own). A reconnect's is the new one's.
   */
  connect_ms?: number | null;
  /** Trace replay: when it was planned to be sent, in ms after the start (its timestamp over --trace-speed). */
  planned_ms?: number;
  /** How long it waited in the client between its arrival and its send (rate mode with a cap; else ~0). */
  queue_wait_ms: number;
  status: "ok" | "failed";
  /** Why it failed; null when it succeeded. */
  error: string | null;
  /** Input tokens by the client tokenizer (system prompt and history included). */
  in_tokens: number;
  /** Input tokens as the server reported them, when it did. */
  server_in_tokens: number | null;
  /** Of them, tokens the server found in its prefix cache, when it said (usage `prompt_tokens_details.cached_tokens` and the like). Absent in older records. */
  cached_tokens?: number | null;
  /** Output tokens: the server's count where it gave one, else the sum over token events. */
  out_tokens: number;
  /** Output tokens the request asked for. */
  asked_out_tokens: number;
  /** A successful answer with fewer tokens than asked: the server ignored the requested length. */
  short: boolean;
  ttft_ms: number | null;
  e2e_ms: number | null;
  /** Offset from send when the request ended, successfully or not (ms). */
  done_ms: number;
  /** `[offset from send in ms, tokens carried]` for every token-carrying stream event. */
  events: Array<[number, number]>;
  finish_reason: string | null;
  /** Time to the first answer token (content, tool call, …), after any thinking; null when none came. */
  ttft_content_ms: number | null;
  /** Thinking (reasoning) tokens among out_tokens: the server's count where it gave one, else counted from the stream. */
  reasoning_tokens: number;
  /** out_tokens − reasoning_tokens. */
  answer_tokens: number;
  /** From the first thinking token to the first answer token after it (the last thinking token when none followed); null without thinking. */
  thinking_ms: number | null;
  /** The server's id of the request, where it gives one (OpenAI `id`). */
  request_id?: string | null;
}

/**
 * A record as measured, until it is written: its token events as MeasuredEvents rather than as
 * pairs. A point's last seconds finish thousands of requests at once, and a pair per token was
 * ~48 bytes of garbage each (10,000 streams × 256 tokens: over 100 MB).
 */
export type MeasuredRecord = Omit<RequestRecord, "events"> & { events: MeasuredEvents };
