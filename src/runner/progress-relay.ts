/**
 * A worker's live progress, relayed to its parent over IPC: what was sent and what finished (the
 * compact stats the live panel reads), in batches four times a second, never per token. The parent
 * feeds every worker's batches into one panel, which so shows their sum.
 */
import type { RequestStats } from "../metrics/request-stats.ts";
import type { LiveProgress } from "../report/progress.ts";

export interface ProgressBatch {
  type: "progress";
  sent: number;
  finished: RequestStats[];
}

const EVERY_MS = 250;
/** The live panel samples at most this many ITLs of a request: the rest need not cross the pipe. */
const ITL_SAMPLES = 32;

export class ProgressRelay {
  private sent = 0;
  private finished: RequestStats[] = [];
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(private readonly send: (batch: ProgressBatch) => void) {
    this.timer = setInterval(() => this.flush(), EVERY_MS);
    this.timer.unref?.();
  }

  onSent(): void {
    this.sent++;
  }

  onFinished(stats: RequestStats): void {
    this.finished.push(stats.itl.length > ITL_SAMPLES ? { ...stats, itl: sampled(stats.itl) } : stats);
  }

  flush(): void {
    if (this.sent === 0 && this.finished.length === 0) return;
    this.send({ type: "progress", sent: this.sent, finished: this.finished });
    this.sent = 0;
    this.finished = [];
  }

  stop(): void {
    clearInterval(this.timer);
    this.flush();
  }
}

/** The parent's side: a worker's batch into the one panel. */
export function feedProgress(progress: LiveProgress, batch: ProgressBatch): void {
  for (let i = 0; i < batch.sent; i++) progress.onSent();
  for (const stats of batch.finished) progress.onFinished(stats);
}

function sampled(itl: Float32Array): Float32Array {
  const step = Math.floor(itl.length / ITL_SAMPLES);
  const out = new Float32Array(ITL_SAMPLES);
  for (let i = 0; i < ITL_SAMPLES; i++) out[i] = itl[i * step]!;
  return out;
}
