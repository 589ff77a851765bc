import { expect, test } from "bun:test";
import { runClosedLoop } from "../src/workload/closed-loop.ts";

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

test("users start evenly over the ramp-up: user i at i × rampUp / n", async () => {
  const firstSend = new Map<number, number>();
  const start = performance.now();
  await runClosedLoop({ clients: 5, rampUpS: 1, stopTimeS: null, maxRequests: 5, drainTimeoutS: 5 }, async (user) => {
    if (!firstSend.has(user)) firstSend.set(user, performance.now() - start);
    await sleep(1200);
  });
  expect([...firstSend.keys()].sort()).toEqual([0, 1, 2, 3, 4]);
  for (const [user, at] of firstSend) {
    expect(at).toBeGreaterThanOrEqual(user * 200 - 1);
    expect(at).toBeLessThan(user * 200 + 150); // a loaded machine fires timers late, never early
  }
});

test("each user waits for its answer before sending the next, and the budget is exact", async () => {
  const inFlight = new Map<number, number>();
  let maxPerUser = 0;
  let sent = 0;
  await runClosedLoop({ clients: 3, rampUpS: 0, stopTimeS: null, maxRequests: 10, drainTimeoutS: 5 }, async (user) => {
    sent++;
    inFlight.set(user, (inFlight.get(user) ?? 0) + 1);
    maxPerUser = Math.max(maxPerUser, inFlight.get(user)!);
    await sleep(5 + user);
    inFlight.set(user, inFlight.get(user)! - 1);
  });
  expect(sent).toBe(10);
  expect(maxPerUser).toBe(1);
});

test("no request starts after the stop time; requests in flight are cancelled after the drain timeout", async () => {
  const sends: number[] = [];
  const cancelled: string[] = [];
  const start = performance.now();
  await runClosedLoop({ clients: 2, rampUpS: 0, stopTimeS: 0.3, maxRequests: null, drainTimeoutS: 0.2 }, async (_user, seq, cancel) => {
    sends.push(performance.now() - start);
    // the first request of each user is quick, the second outlives the stop
    await sleep(seq === 0 ? 100 : 5000, cancel);
    if (cancel.aborted) cancelled.push((cancel.reason as Error).message);
  });
  const elapsed = performance.now() - start;
  expect(sends.length).toBe(4);
  for (const at of sends) expect(at).toBeLessThan(300);
  expect(cancelled).toEqual(["cancelled at stop (drain timeout 0.2 s)", "cancelled at stop (drain timeout 0.2 s)"]);
  // stop at 300 ms + drain 200 ms
  expect(elapsed).toBeGreaterThanOrEqual(490);
  expect(elapsed).toBeLessThan(3000); // not the 5 s the second requests would take
});

test("an interrupt stops issuing and cancels what is in flight at once", async () => {
  const interrupt = new AbortController();
  const reasons: string[] = [];
  setTimeout(() => interrupt.abort(new Error("interrupted (Ctrl-C)")), 100);
  const start = performance.now();
  await runClosedLoop(
    { clients: 3, rampUpS: 0, stopTimeS: null, maxRequests: 100, drainTimeoutS: 60 },
    async (_user, _seq, cancel) => {
      await sleep(10_000, cancel);
      reasons.push((cancel.reason as Error).message);
    },
    interrupt.signal,
  );
  expect(reasons).toEqual(["interrupted (Ctrl-C)", "interrupted (Ctrl-C)", "interrupted (Ctrl-C)"]);
  expect(performance.now() - start).toBeLessThan(5000); // not the 10 s sleep
});
