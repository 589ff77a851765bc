/** Workers' progress relayed to one live panel: the panel shows the sum, batches cross as sent, ITLs are thinned for the pipe. */
import { expect, test } from "bun:test";
import type { RequestStats } from "../src/metrics/request-stats.ts";
import { LiveProgress } from "../src/report/progress.ts";
import { feedProgress, ProgressRelay, type ProgressBatch } from "../src/runner/progress-relay.ts";

function stats(ttft: number, itlCount: number, ok = true): RequestStats {
  return {
    sent: true, ok, error: ok ? null : "HTTP 500", sendMs: 0, doneMs: 1, queueWaitMs: 0, turn: 0, inTokens: 10, serverInTokens: 10, outTokens: itlCount + 1, short: false,
    ttft: ok ? ttft : null, e2e: ok ? ttft + itlCount : null, tpot: ok ? 1 : null, itl: Float32Array.from({ length: itlCount }, (_, i) => i), tokenEvents: itlCount + 1,
    ttftContent: ok ? ttft : null, reasoningTokens: 0, answerTokens: itlCount + 1, thinkingMs: null,
  };
}

test("two workers' batches make one panel whose counts are their sum", () => {
  const panel = new LiveProgress({ title: "t", budget: 10, stopTimeS: null, enabled: true, stream: { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream });
  const batches: ProgressBatch[] = [];
  const workers = [new ProgressRelay((b) => batches.push(b)), new ProgressRelay((b) => batches.push(b))];
  workers[0]!.onSent();
  workers[0]!.onSent();
  workers[0]!.onFinished(stats(10, 4));
  workers[1]!.onSent();
  workers[1]!.onSent();
  workers[1]!.onSent();
  workers[1]!.onFinished(stats(30, 4));
  workers[1]!.onFinished(stats(0, 0, false));
  for (const worker of workers) worker.stop();
  expect(batches.map((b) => [b.sent, b.finished.length])).toEqual([[2, 1], [3, 2]]);
  for (const batch of batches) feedProgress(panel, batch);
  const state = panel.state();
  expect([state.sent, state.completed, state.failed]).toEqual([5, 2, 1]);
  expect(state.ttft).toEqual([20, 29.8]); // p50 and p99 of 10 and 30
  expect(state.recentFailures).toEqual([["HTTP 500", 1]]);
  // nothing new: stop sends no empty batch
  workers[0]!.stop();
  expect(batches.length).toBe(2);
});

test("a long answer's ITLs are thinned to 32 evenly spaced samples before they cross the pipe", () => {
  const batches: ProgressBatch[] = [];
  const relay = new ProgressRelay((b) => batches.push(b));
  relay.onFinished(stats(5, 320));
  relay.stop();
  const itl = batches[0]!.finished[0]!.itl;
  expect(itl.length).toBe(32);
  expect([itl[0], itl[1], itl[31]]).toEqual([0, 10, 310]);
  expect(batches[0]!.finished[0]!.ttft).toBe(5);
});
