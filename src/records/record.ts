/** One request as the client saw it. Written as one JSON line to requests.jsonl when it finishes. */
export interface RequestRecord {
  /** Virtual user (closed loop) that sent it. */
  user: number;
  /** Index of this request in the user's own sequence. */
  seq: number;
  /** Which dataset entry the prompt came from. */
  prompt_index: number;
  /** Wall-clock time just before the request went out (epoch ms, fractional). */
  send_ms: number;
  status: "ok" | "failed";
  /** Why it failed; null when it succeeded. */
  error: string | null;
  /** Input tokens by the client tokenizer. */
  in_tokens: number;
  /** Input tokens as the server reported them, when it did. */
  server_in_tokens: number | null;
  /** Output tokens: the server's count where it gave one, else one per token event. */
  out_tokens: number;
  /** Output tokens the request asked for. */
  asked_out_tokens: number;
  ttft_ms: number | null;
  e2e_ms: number | null;
  /** Offset from send when the request ended, successfully or not (ms). */
  done_ms: number;
  /** `[offset from send in ms, tokens carried]` for every token-carrying stream event. */
  events: Array<[number, number]>;
  finish_reason: string | null;
}
