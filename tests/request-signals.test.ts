import { describe, expect, test } from "bun:test";
import { RequestSignals } from "../src/runner/request-signals.ts";

/** Resolves with performance.now() when `signal` aborts. */
const abortedAt = (signal: AbortSignal) =>
  new Promise<number>((resolve) => signal.addEventListener("abort", () => resolve(performance.now()), { once: true }));

describe("RequestSignals: each request aborted by its own timeout or by the point's cancel", () => {
  test("requests opened one after another each time out at their own deadline, never before, with the flag's words", async () => {
    const signals = new RequestSignals(0.05);
    const cancel = new AbortController();
    const opened: { openedAt: number; signal: AbortSignal; at: Promise<number> }[] = [];
    for (let i = 0; i < 5; i++) {
      const openedAt = performance.now();
      const request = signals.openUnder(cancel.signal);
      opened.push({ openedAt, signal: request.signal, at: abortedAt(request.signal) });
      await Bun.sleep(15);
    }
    for (const { openedAt, signal, at } of opened) {
      expect(await at).toBeGreaterThanOrEqual(openedAt + 50);
      expect((signal.reason as Error).message).toBe("timeout after 0.05 s (--request-timeout)");
    }
  });

  test("a request closed before its deadline is never aborted, while the one opened after it still times out", async () => {
    const signals = new RequestSignals(0.04);
    const cancel = new AbortController();
    const closed = signals.openUnder(cancel.signal);
    const later = signals.openUnder(cancel.signal);
    signals.close(closed);
    await abortedAt(later.signal);
    expect(closed.signal.aborted).toBe(false);
    // nor by a cancel that comes afterwards
    cancel.abort(new Error("interrupted"));
    expect(closed.signal.aborted).toBe(false);
  });

  test("the point's cancel aborts every open request with its reason; one sent after it starts aborted", () => {
    const signals = new RequestSignals(600);
    const cancel = new AbortController();
    const requests = Array.from({ length: 3 }, () => signals.openUnder(cancel.signal));
    signals.close(requests[1]!);
    const reason = new Error("cancelled at stop");
    cancel.abort(reason);
    expect(requests.map((r) => r.signal.aborted)).toEqual([true, false, true]);
    expect(requests[0]!.signal.reason).toBe(reason);
    const late = signals.openUnder(cancel.signal);
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason).toBe(reason);
  });

  test("a timeout longer than timers take (--request-timeout 3000000: 34 days) neither fires at once nor overflows", async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on("warning", onWarning);
    try {
      const signals = new RequestSignals(3_000_000);
      const request = signals.openUnder(new AbortController().signal);
      await Bun.sleep(30);
      expect(request.signal.aborted).toBe(false);
      expect(warnings).not.toContain("TimeoutOverflowWarning");
      signals.close(request);
    } finally {
      process.off("warning", onWarning);
    }
  });

  test("one cancel signal per point: another is a programming error, not a silent leak", () => {
    const signals = new RequestSignals(600);
    const first = signals.openUnder(new AbortController().signal);
    expect(() => signals.openUnder(new AbortController().signal)).toThrow("one cancel signal per point");
    signals.close(first);
  });
});
