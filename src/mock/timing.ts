/**
 * When the simulator emits each token. Both models are deterministic: given the same arrivals
 * they produce the same schedule.
 */

/** One request being generated: the timing model calls `emit` each time tokens are ready. */
export interface Sequence {
  promptTokens: number;
  /** Leading prompt tokens found in the prefix cache: the batching model does not prefill them. */
  cachedTokens: number;
  outputTokens: number;
  /** Tokens emitted so far. */
  emitted: number;
  /** `count` more tokens are ready now; the sequence is finished when emitted reaches outputTokens. */
  emit(count: number): void;
  /** Set when the client went away: the model drops the sequence. */
  cancelled: boolean;
}

/** What the simulated server is doing now, for its /metrics gauges. */
export interface ServerLoad {
  /** Sequences being generated. */
  running: number;
  /** Sequences admitted to the server but waiting for a batch slot. */
  waiting: number;
}

export interface TimingModel {
  readonly description: string;
  admit(sequence: Sequence): void;
  load(): ServerLoad;
}

export interface FixedTiming {
  ttftMs: number;
  itlMs: number;
  /** Tokens per stream event (as with multi-step scheduling or speculative decoding). */
  tokensPerEvent: number;
}

/** The first event leaves ttft ms after arrival, then one event every tokensPerEvent × itl ms, whatever the load. */
export function fixedTimingModel(timing: FixedTiming): TimingModel {
  let active = 0;
  return {
    load: () => ({ running: active, waiting: 0 }),
    description: `fixed: TTFT ${timing.ttftMs} ms, ITL ${timing.itlMs} ms, ${timing.tokensPerEvent} token(s) per event`,
    admit(sequence) {
      const arrival = performance.now();
      let firstAt = 0;
      let event = 0;
      active++;
      const next = () => {
        if (sequence.cancelled) {
          active--;
          return;
        }
        const count = Math.min(timing.tokensPerEvent, sequence.outputTokens - sequence.emitted);
        sequence.emit(count);
        if (event === 0) firstAt = performance.now();
        if (sequence.emitted >= sequence.outputTokens || sequence.cancelled) {
          active--;
          return;
        }
        event++;
        // Targets counted from the first token's write: a late timer does not push later tokens back.
        runAt(firstAt + event * timing.tokensPerEvent * timing.itlMs, next);
      };
      runAt(arrival + timing.ttftMs, next);
    },
  };
}

/** Runs `action` at `target` (performance.now() time) or just after, never before: timers may fire early. */
export function runAt(target: number, action: () => void): void {
  const check = () => {
    const left = target - performance.now();
    if (left > 0) setTimeout(check, left);
    else action();
  };
  check();
}

export interface BatchingTiming {
  /** Prompt tokens prefilled per second. */
  prefillTps: number;
  /** Fixed cost of one decode step. */
  stepMs: number;
  /** Extra cost of a decode step for each running sequence. */
  stepMsPerSeq: number;
  /** Sequences running at most; the rest wait in a queue. */
  maxBatch: number;
}

export const DEFAULT_BATCHING: BatchingTiming = { prefillTps: 16000, stepMs: 7.5, stepMsPerSeq: 0.1, maxBatch: 256 };

/**
 * A continuous-batching server. Each iteration admits waiting sequences up to maxBatch, prefills
 * the newly admitted prompts (but their cached prefix) and decodes one token for every running sequence; it lasts
 * stepMs + stepMsPerSeq × batch + newPromptTokens / prefillTps, and at its end every sequence in
 * the batch emits one token (the newly admitted their first).
 */
export function batchingTimingModel(timing: BatchingTiming): TimingModel {
  const waiting: Sequence[] = [];
  const running: Sequence[] = [];
  let busy = false;
  let nextStepAt = 0;

  const step = () => {
    for (let i = running.length - 1; i >= 0; i--) if (running[i]!.cancelled) running.splice(i, 1);
    let prefillTokens = 0;
    while (running.length < timing.maxBatch && waiting.length > 0) {
      const sequence = waiting.shift()!;
      if (sequence.cancelled) continue;
      prefillTokens += sequence.promptTokens - sequence.cachedTokens;
      running.push(sequence);
    }
    if (running.length === 0) {
      busy = false;
      return;
    }
    const durationMs = timing.stepMs + timing.stepMsPerSeq * running.length + (prefillTokens * 1000) / timing.prefillTps;
    // A step never starts before the previous one ended, nor before now: a late timer delays it.
    const stepStart = Math.max(nextStepAt, performance.now());
    nextStepAt = stepStart + durationMs;
    runAt(nextStepAt, () => {
      const batch = running.splice(0, running.length);
      for (const sequence of batch) {
        if (sequence.cancelled) continue;
        sequence.emit(1);
        if (sequence.emitted < sequence.outputTokens) running.push(sequence);
      }
      step();
    });
  };

  return {
    load: () => ({ running: running.length, waiting: waiting.length }),
    description: `batching: prefill ${timing.prefillTps} tok/s, step ${timing.stepMs} ms + ${timing.stepMsPerSeq} ms/seq, max batch ${timing.maxBatch}`,
    admit(sequence) {
      waiting.push(sequence);
      if (!busy) {
        busy = true;
        nextStepAt = performance.now();
        step();
      }
    },
  };
}
