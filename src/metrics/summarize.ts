import { observedConcurrency } from "./concurrency.ts";
import type { RequestStats } from "./request-stats.ts";
import { describeChunks } from "./order-statistics.ts";
import { describe, type Distribution } from "./stats.ts";

export interface Summary {
  /** Requests issued (sent) in the run: completed + failed. */
  requests: number;
  completed: number;
  failed: number;
  /** Failed requests counted by reason. */
  failures: Record<string, number>;
  success_rate: number;
  /** From the first request sent to the last request finished, in seconds. */
  duration_s: number;
  qps: number;
  total_inlen: number;
  total_outlen: number;
  avg_inlen: number;
  avg_outlen: number;
  max_inlen: number;
  max_outlen: number;
  o_tps: number;
  io_tps: number;
  /** Sum of the server's own prompt-token counts, over the completed requests that reported one. */
  server_total_inlen: number | null;
  /** Sum of the prompt tokens the server said it found in its prefix cache, over the completed requests that said; null when none did. */
  total_cached_tokens: number | null;
  /** Output tokens per token event: above 1 means ITL samples are shares of multi-token chunks. */
  tokens_per_event: number;
  /** Successful answers with fewer tokens than asked. */
  short_outputs: number;
  /** Requests in flight, as observed: time-averaged and at most. */
  mean_concurrency: number;
  max_concurrency: number;
  /** Time requests waited in the client before being sent (rate mode with a cap). */
  queue_wait: Distribution | null;
  ttft: Distribution | null;
  tpot: Distribution | null;
  e2e: Distribution | null;
  itl: Distribution | null;
  /** Time to the first answer token, over the completed requests that had one (equal to TTFT without thinking). */
  ttft_content: Distribution | null;
  /** Thinking time, over the completed requests that thought. */
  thinking: Distribution | null;
  /** Thinking (reasoning) tokens and answer tokens of the completed requests: they add up to total_outlen. */
  total_reasoning_tokens: number;
  avg_reasoning_tokens: number;
  total_answer_tokens: number;
  avg_answer_tokens: number;
  /** Completed requests whose answer had no token after the thinking (cut by the length limit while thinking). */
  no_answer: number;
}

/**
 * Metrics of one run or sweep point (with the chosen percentiles besides p90 and p99); failed requests count only in completed/failed/failures.
 * The ITL's samples (one per token of the point: millions) are described where they are, in each
 * request's array (order-statistics.ts).
 */
export function summarize(requests: readonly RequestStats[], percentiles: readonly number[] = []): Summary {
  const failures: Record<string, number> = {};
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const e2es: number[] = [];
  const queueWaits: number[] = [];
  const ttftContents: number[] = [];
  const thinkingTimes: number[] = [];
  let totalReasoning = 0;
  let totalAnswer = 0;
  let noAnswer = 0;
  const itls: Float32Array[] = [];
  let completed = 0;
  let totalIn = 0;
  let totalOut = 0;
  let maxIn = 0;
  let maxOut = 0;
  let tokenEvents = 0;
  let cached: number | null = null;
  let shortOutputs = 0;
  let serverIn: number | null = null;
  let firstSend = Infinity;
  let lastDone = -Infinity;

  for (const request of requests) {
    firstSend = Math.min(firstSend, request.sendMs);
    lastDone = Math.max(lastDone, request.sendMs + request.doneMs);
    if (request.sent) queueWaits.push(request.queueWaitMs);
    if (!request.ok) {
      const reason = request.error ?? "no output tokens";
      failures[reason] = (failures[reason] ?? 0) + 1;
      continue;
    }
    completed++;
    if (request.short) shortOutputs++;
    ttfts.push(request.ttft!);
    e2es.push(request.e2e!);
    if (request.tpot !== null) tpots.push(request.tpot);
    itls.push(request.itl);
    tokenEvents += request.tokenEvents;
    totalIn += request.inTokens;
    totalOut += request.outTokens;
    maxIn = Math.max(maxIn, request.inTokens);
    maxOut = Math.max(maxOut, request.outTokens);
    if (request.serverInTokens !== null) serverIn = (serverIn ?? 0) + request.serverInTokens;
    if (request.cachedTokens != null) cached = (cached ?? 0) + request.cachedTokens;
    if (request.ttftContent !== null) ttftContents.push(request.ttftContent);
    else noAnswer++;
    if (request.thinkingMs !== null) thinkingTimes.push(request.thinkingMs);
    totalReasoning += request.reasoningTokens;
    totalAnswer += request.answerTokens;
  }

  const issued = requests.length;
  const durationS = issued > 0 ? (lastDone - firstSend) / 1000 : 0;
  const perSecond = (n: number) => (durationS > 0 ? n / durationS : 0);
  const concurrency = observedConcurrency(requests);
  return {
    requests: issued,
    completed,
    failed: issued - completed,
    failures,
    success_rate: issued > 0 ? completed / issued : 0,
    duration_s: durationS,
    qps: perSecond(completed),
    total_inlen: totalIn,
    total_outlen: totalOut,
    avg_inlen: completed > 0 ? totalIn / completed : 0,
    avg_outlen: completed > 0 ? totalOut / completed : 0,
    max_inlen: maxIn,
    max_outlen: maxOut,
    o_tps: perSecond(totalOut),
    io_tps: perSecond(totalIn + totalOut),
    server_total_inlen: serverIn,
    total_cached_tokens: cached,
    tokens_per_event: tokenEvents > 0 ? totalOut / tokenEvents : 0,
    short_outputs: shortOutputs,
    mean_concurrency: concurrency.mean,
    max_concurrency: concurrency.max,
    queue_wait: describe(queueWaits),
    ttft: describe(ttfts, percentiles),
    tpot: describe(tpots, percentiles),
    e2e: describe(e2es, percentiles),
    itl: describeChunks(itls, percentiles),
    ttft_content: describe(ttftContents, percentiles),
    thinking: describe(thinkingTimes, percentiles),
    total_reasoning_tokens: totalReasoning,
    avg_reasoning_tokens: completed > 0 ? totalReasoning / completed : 0,
    total_answer_tokens: totalAnswer,
    avg_answer_tokens: completed > 0 ? totalAnswer / completed : 0,
    no_answer: noAnswer,
  };
}
