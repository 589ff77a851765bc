import { appendFileSync } from "node:fs";

/** What the simulator really did with one request: the ground truth that client measurements are checked against. */
export interface TruthEntry {
  id: number;
  protocol: string;
  /** When the request arrived (epoch ms, fractional). */
  arrival_ms: number;
  prompt_tokens: number;
  /** Of the prompt tokens, those found in the prefix cache (--prefix-cache): not prefilled. */
  cached_tokens: number;
  output_tokens: number;
  /** When each token was written to the socket (epoch ms); tokens sharing an event share a time. */
  token_ms: number[];
  /** Tokens 0 … thinking_tokens − 1 were thinking (reasoning); the rest the answer. */
  thinking_tokens: number;
  /** The last this-many tokens written were a tool call (part of the answer). */
  tool_call_tokens: number;
  /** When the response ended. */
  end_ms: number;
  /** "failed": a fault (--fail-after-tokens, --faults) ended it. */
  status: "ok" | "cancelled" | "failed";
  /** The --faults fault this request drew (it may strike after the tokens listed). */
  fault?: string;
  /** The prompt text, with --log-prompts. */
  prompt?: string;
}

export class TruthLog {
  constructor(private readonly path: string | null) {}

  append(entry: TruthEntry): void {
    if (this.path) appendFileSync(this.path, JSON.stringify(entry) + "\n");
  }
}

export function epochMs(): number {
  return performance.timeOrigin + performance.now();
}
