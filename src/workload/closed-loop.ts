/**
 * Closed-loop clients: `clients` virtual users, user i starting at i × rampUp / clients, each
 * sending its next request only when the previous one has finished (and, if asked, after a think
 * time). The point stops issuing at the request budget or the stop time, whichever comes first;
 * requests in flight then get `drainTimeoutS` to finish before they are cancelled. This module
 * decides when requests start, nothing more: what a request is and how it is measured is the
 * caller's `send`.
 */
import { yieldToIo } from "./precise-timer.ts";
import type { LoopTiming } from "./timing.ts";

export interface ClosedLoopPlan {
  clients: number;
  rampUpS: number;
  /** Seconds after the start when no new request may start; null for no limit. */
  stopTimeS: number | null;
  /** Total requests to issue across all users; null for no limit. */
  maxRequests: number | null;
  drainTimeoutS: number;
  /** The global ids of the users to run (a shard's share); all of 0 … clients − 1 when absent. */
  users?: readonly number[];
}

/**
 * Sends one request and resolves when it has finished (in any way), with how long the user
 * thinks before its next request (ms; 0 or nothing for none). Must not reject.
 */
export type SendRequest = (user: number, seq: number, cancel: AbortSignal) => Promise<number | void>;

import { StopReason } from "../common/stop-reason.ts";

export { StopReason };

/** Stopping: no new request after it, and in-flight requests cancelled after the drain timeout. */
export class StopControl {
  readonly stopping = new AbortController();
  readonly cancel = new AbortController();
  stoppedAt: number | null = null;
  private drainTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly drainTimeoutS: number) {}

  stopIssuing(): void {
    if (this.stopping.signal.aborted) return;
    this.stoppedAt = performance.now();
    this.stopping.abort();
    this.drainTimer = setTimeout(
      () => this.cancel.abort(new StopReason(`cancelled at stop (drain timeout ${this.drainTimeoutS} s)`)),
      this.drainTimeoutS * 1000,
    );
  }

  interrupt(reason: unknown): void {
    this.stopIssuing();
    this.cancel.abort(reason ?? new StopReason("interrupted"));
  }

  dispose(): void {
    clearTimeout(this.drainTimer);
  }
}

export async function runClosedLoop(plan: ClosedLoopPlan, send: SendRequest, interrupt?: AbortSignal): Promise<LoopTiming> {
  const startedAt = performance.now();
  const control = new StopControl(plan.drainTimeoutS);
  let issued = 0;
  const onInterrupt = () => control.interrupt(interrupt?.reason);
  if (interrupt?.aborted) onInterrupt();
  interrupt?.addEventListener("abort", onInterrupt, { once: true });
  const stopTimer = plan.stopTimeS === null ? undefined : setTimeout(() => control.stopIssuing(), plan.stopTimeS * 1000);
  const stopped = control.stopping.signal;

  const mayIssue = () => {
    if (stopped.aborted) return false;
    if (plan.maxRequests !== null && issued >= plan.maxRequests) {
      control.stopIssuing();
      return false;
    }
    return true;
  };

  const runUser = async (user: number) => {
    const startDelayMs = (user * plan.rampUpS * 1000) / plan.clients - (performance.now() - startedAt);
    if (startDelayMs > 0) await sleepUnlessStopped(startDelayMs, stopped);
    for (let seq = 0; mayIssue(); seq++) {
      issued++;
      const thinkMs = await send(user, seq, control.cancel.signal);
      if (thinkMs && thinkMs > 0) await sleepUnlessStopped(thinkMs, stopped);
    }
  };

  try {
    const users = plan.users ?? Array.from({ length: plan.clients }, (_, user) => user);
    const running: Promise<void>[] = [];
    for (let i = 0; i < users.length; i++) {
      // One user at a time, with the socket reads of those already sent in between: 5,000 users
      // due at once (ramp-up 0) sent in one go would leave every answer unread, its TTFT growing,
      // until the last request was out (bench/connect-storm.ts).
      if (i > 0) await yieldToIo();
      running.push(runUser(users[i]!));
    }
    await Promise.all(running);
  } finally {
    clearTimeout(stopTimer);
    control.dispose();
    interrupt?.removeEventListener("abort", onInterrupt);
  }
  return { startedAt, rampedUpAt: startedAt + plan.rampUpS * 1000, stoppedAt: control.stoppedAt ?? performance.now() };
}

export function sleepUnlessStopped(ms: number, stopped: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stopped.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      stopped.removeEventListener("abort", done);
      resolve();
    }
    stopped.addEventListener("abort", done, { once: true });
  });
}
