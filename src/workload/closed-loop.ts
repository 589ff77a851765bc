/**
 * Closed-loop clients: `clients` virtual users, user i starting at i × rampUp / clients, each
 * sending its next request only when the previous one has finished. The point stops issuing at
 * the request budget or the stop time, whichever comes first; requests in flight then get
 * `drainTimeoutS` to finish before they are cancelled. This module decides when requests start,
 * nothing more: what a request is and how it is measured is the caller's `send`.
 */

export interface ClosedLoopPlan {
  clients: number;
  rampUpS: number;
  /** Seconds after the start when no new request may start; null for no limit. */
  stopTimeS: number | null;
  /** Total requests to issue across all users; null for no limit. */
  maxRequests: number | null;
  drainTimeoutS: number;
}

/** Sends one request and resolves when it has finished (in any way). Must not reject. */
export type SendRequest = (user: number, seq: number, cancel: AbortSignal) => Promise<void>;

export class StopReason extends Error {}

export async function runClosedLoop(plan: ClosedLoopPlan, send: SendRequest, interrupt?: AbortSignal): Promise<void> {
  const cancel = new AbortController();
  const stopping = new AbortController();
  let issued = 0;
  let drainTimer: ReturnType<typeof setTimeout> | undefined;

  const stopIssuing = () => {
    if (stopping.signal.aborted) return;
    stopping.abort();
    drainTimer = setTimeout(
      () => cancel.abort(new StopReason(`cancelled at stop (drain timeout ${plan.drainTimeoutS} s)`)),
      plan.drainTimeoutS * 1000,
    );
  };
  const onInterrupt = () => {
    stopIssuing();
    cancel.abort(interrupt?.reason ?? new StopReason("interrupted"));
  };
  if (interrupt?.aborted) return;
  interrupt?.addEventListener("abort", onInterrupt, { once: true });
  const stopTimer = plan.stopTimeS === null ? undefined : setTimeout(stopIssuing, plan.stopTimeS * 1000);

  const mayIssue = () => {
    if (stopping.signal.aborted) return false;
    if (plan.maxRequests !== null && issued >= plan.maxRequests) {
      stopIssuing();
      return false;
    }
    return true;
  };

  const runUser = async (user: number) => {
    const startDelayMs = (user * plan.rampUpS * 1000) / plan.clients;
    if (startDelayMs > 0) await sleepUnlessStopped(startDelayMs, stopping.signal);
    for (let seq = 0; mayIssue(); seq++) {
      issued++;
      await send(user, seq, cancel.signal);
    }
  };

  try {
    await Promise.all(Array.from({ length: plan.clients }, (_, user) => runUser(user)));
  } finally {
    clearTimeout(stopTimer);
    clearTimeout(drainTimer);
    interrupt?.removeEventListener("abort", onInterrupt);
  }
}

function sleepUnlessStopped(ms: number, stopped: AbortSignal): Promise<void> {
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
