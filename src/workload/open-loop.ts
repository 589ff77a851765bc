/**
 * Open-loop arrivals at a request rate: request j arrives at the j-th point of a seeded Poisson
 * (or gamma) process, whether earlier requests have finished or not. An optional cap holds
 * arrivals in the client until a slot frees; how long each waited is the caller's to record.
 */
import { seededRandom } from "../dataset/prng.ts";
import { gapGenerator } from "./arrivals.ts";
import { StopControl } from "./closed-loop.ts";
import { waitUntil } from "./precise-timer.ts";
import { ownsRequest, type Shard } from "./shards.ts";
import type { LoopTiming } from "./timing.ts";

export interface OpenLoopPlan {
  /** Requests per second; Infinity sends every request at once. */
  rate: number;
  burstiness: number;
  maxConcurrency: number | null;
  maxRequests: number | null;
  stopTimeS: number | null;
  drainTimeoutS: number;
  seed: number;
  /** Send only the requests j of the global schedule with j mod count = index (a shard's share); all when absent. */
  shard?: Shard;
  /** Trace replay: the arrival offsets (ms after the start, ascending) instead of the seeded process; one request each. */
  offsetsMs?: readonly number[];
}

/**
 * Sends request j, which arrived at `arrivedAt` (performance.now() time; with a cap it may be
 * sent later), and resolves when it has finished. `notSent` is set when the point stopped while
 * the request still waited for a slot: it must be recorded, not sent. Must not reject.
 */
export type SendArrival = (request: number, arrivedAt: number, cancel: AbortSignal, notSent: string | null) => Promise<void>;

/** The arrival times (ms after the start) that a plan produces: a pure function of the seed. */
export function arrivalSchedule(plan: Pick<OpenLoopPlan, "rate" | "burstiness" | "seed">): () => number {
  const nextGap = gapGenerator(plan.rate, plan.burstiness, seededRandom(plan.seed, 0x61727276));
  let offsetMs = 0;
  let first = true;
  return () => {
    if (first) {
      first = false;
      return 0;
    }
    offsetMs += nextGap() * 1000;
    return offsetMs;
  };
}

export async function runOpenLoop(plan: OpenLoopPlan, send: SendArrival, interrupt?: AbortSignal): Promise<LoopTiming> {
  const startedAt = performance.now();
  const control = new StopControl(plan.drainTimeoutS);
  const onInterrupt = () => control.interrupt(interrupt?.reason);
  if (interrupt?.aborted) onInterrupt();
  interrupt?.addEventListener("abort", onInterrupt, { once: true });
  const stopAt = plan.stopTimeS === null ? Infinity : startedAt + plan.stopTimeS * 1000;
  const stopTimer = plan.stopTimeS === null ? undefined : setTimeout(() => control.stopIssuing(), plan.stopTimeS * 1000);
  const stopped = control.stopping.signal;
  const slots = plan.maxConcurrency === null ? null : new Slots(plan.maxConcurrency);
  const inFlight: Promise<void>[] = [];
  const nextArrival = plan.offsetsMs ? listedArrivals(plan.offsetsMs) : arrivalSchedule(plan);
  const maxRequests = plan.offsetsMs ? Math.min(plan.offsetsMs.length, plan.maxRequests ?? Infinity) : plan.maxRequests;

  const started: Promise<void>[] = [];
  const dispatch = async (request: number, arrivedAt: number, onStarted: () => void) => {
    if (slots && !(await slots.acquire(stopped))) {
      onStarted();
      await send(request, arrivedAt, control.cancel.signal, "not sent: still waiting for a --max-concurrency slot at the stop");
      return;
    }
    onStarted();
    try {
      await send(request, arrivedAt, control.cancel.signal, null);
    } finally {
      slots?.release();
    }
  };

  try {
    for (let request = 0; maxRequests === null || request < maxRequests; request++) {
      const arrivalAt = startedAt + nextArrival();
      if (arrivalAt >= stopAt) break;
      if (plan.shard && !ownsRequest(request, plan.shard)) continue; // another shard's: its gap is drawn all the same
      await waitUntil(arrivalAt, stopped); // one loop turn even when already due: the answers of those sent are read meanwhile
      if (stopped.aborted) break;
      started.push(new Promise<void>((onStarted) => inFlight.push(dispatch(request, arrivalAt, onStarted))));
    }
    // Every arrival is in: requests still queued behind the cap are sent as slots free up (unless
    // the stop time comes first); only then does the drain of the last requests begin.
    await Promise.all(started);
    control.stopIssuing();
    await Promise.all(inFlight);
  } finally {
    clearTimeout(stopTimer);
    control.dispose();
    interrupt?.removeEventListener("abort", onInterrupt);
  }
  return { startedAt, rampedUpAt: startedAt, stoppedAt: control.stoppedAt ?? performance.now() };
}

function listedArrivals(offsetsMs: readonly number[]): () => number {
  let next = 0;
  return () => offsetsMs[next++]!;
}

/** A counting semaphore whose waiters give up when the point stops. */
class Slots {
  private readonly waiting: Array<(granted: boolean) => void> = [];

  constructor(private free: number) {}

  acquire(stopped: AbortSignal): Promise<boolean> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve(true);
    }
    if (stopped.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const onStop = () => {
        const at = this.waiting.indexOf(grant);
        if (at !== -1) this.waiting.splice(at, 1);
        resolve(false);
      };
      const grant = (granted: boolean) => {
        stopped.removeEventListener("abort", onStop);
        resolve(granted);
      };
      this.waiting.push(grant);
      stopped.addEventListener("abort", onStop, { once: true });
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next(true);
    else this.free++;
  }
}

