/** The longest delay setTimeout takes (2^31 − 1 ms, ~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Each request's AbortSignal: aborted when its point is cancelled or when its own timeout runs out.
 * One AbortController a request and nothing else: no composite signal (AbortSignal.any's is 320
 * bytes in JSC), no second controller, no timer of its own. Every request of a point has the same
 * timeout, so deadlines come in the order requests open: the open requests are kept in that order
 * (a Map keeps insertion order, deletes in O(1)), and one timer, set for the oldest's deadline,
 * aborts what has expired when it fires and is set again for the next. The point's cancel signal
 * gets one listener, whatever the number of requests. Thousands of streams are in flight at once:
 * this was ~535 bytes a stream (heap snapshot, 1,000 streams).
 */
export class RequestSignals {
  /** Open requests, oldest first, with their deadlines (performance.now() ms). */
  private readonly open = new Map<AbortController, number>();
  private cancel: AbortSignal | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  private readonly timeoutMs: number;
  private readonly fire = () => this.expire();

  constructor(private readonly timeoutS: number) {
    this.timeoutMs = timeoutS * 1000;
  }

  /** A controller for one request sent under the point's `cancel`: its signal goes to the request; `close` it when the request is over. */
  openUnder(cancel: AbortSignal): AbortController {
    const request = new AbortController();
    this.watch(cancel);
    if (cancel.aborted) {
      request.abort(cancel.reason);
      return request;
    }
    const deadline = performance.now() + this.timeoutMs;
    this.open.set(request, deadline);
    if (this.timer === undefined) this.arm(deadline);
    return request;
  }

  close(request: AbortController): void {
    this.open.delete(request);
    if (this.open.size === 0) this.disarm();
  }

  private watch(cancel: AbortSignal): void {
    if (this.cancel === cancel) return;
    if (this.cancel !== null) throw new Error("RequestSignals: one cancel signal per point");
    this.cancel = cancel;
    cancel.addEventListener("abort", () => {
      this.disarm();
      for (const request of this.open.keys()) request.abort(cancel.reason);
    }, { once: true });
  }

  private arm(at: number): void {
    // a longer delay than timers take would fire at once (and again, and again): it fires early instead, and is set again
    this.timer = setTimeout(this.fire, Math.min(MAX_TIMER_MS, Math.max(0, at - performance.now())));
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The timer fired: abort each request past its deadline (oldest first), then wait for the next. */
  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    for (const [request, deadline] of this.open) {
      if (deadline > now) return this.arm(deadline);
      this.open.delete(request);
      request.abort(new Error(`timeout after ${this.timeoutS} s (--request-timeout)`));
    }
  }
}
