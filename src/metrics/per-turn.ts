import type { RequestStats } from "./request-stats.ts";
import { summarize } from "./summarize.ts";

export interface TurnStats {
  turn: number;
  requests: number;
  completed: number;
  mean_ttft: number | null;
  median_ttft: number | null;
  p99_ttft: number | null;
  mean_tpot: number | null;
  /** Time to the first answer token, after any thinking. */
  mean_ttft_content: number | null;
  avg_reasoning_tokens: number;
  avg_inlen: number;
  avg_outlen: number;
}

/** Statistics for each turn index of multi-turn conversations: later turns carry the history. */
export function statsByTurn(requests: readonly RequestStats[]): TurnStats[] {
  const byTurn = new Map<number, RequestStats[]>();
  for (const request of requests) {
    const group = byTurn.get(request.turn);
    if (group) group.push(request);
    else byTurn.set(request.turn, [request]);
  }
  return [...byTurn.keys()].sort((a, b) => a - b).map((turn) => {
    const summary = summarize(byTurn.get(turn)!, []);
    return {
      turn,
      requests: summary.requests,
      completed: summary.completed,
      mean_ttft: summary.ttft?.mean ?? null,
      median_ttft: summary.ttft?.median ?? null,
      p99_ttft: summary.ttft?.p99 ?? null,
      mean_tpot: summary.tpot?.mean ?? null,
      mean_ttft_content: summary.ttft_content?.mean ?? null,
      avg_reasoning_tokens: summary.avg_reasoning_tokens,
      avg_inlen: summary.avg_inlen,
      avg_outlen: summary.avg_outlen,
    };
  });
}
