import type { Backend } from "../backends/backend.ts";
import { describeNetworkError } from "../backends/transport/http.ts";
import { describeExit, type ExitInfo } from "./launch.ts";

export class NotReadyError extends Error {
  override name = "NotReadyError";
}

const ATTEMPT_TIMEOUT_MS = 5000;
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 1000;

/**
 * Asks the server's health check until it answers as ready. Fails at once when the process exits
 * (`exited`), after `timeoutS` otherwise, and with `signal.reason` when `signal` aborts (Ctrl-C).
 * Resolves with the seconds it waited.
 */
export async function waitUntilReady(
  backend: Backend,
  options: { timeoutS: number; exited?: Promise<ExitInfo>; signal?: AbortSignal; timeoutHint?: string },
): Promise<number> {
  const started = performance.now();
  const deadline = started + options.timeoutS * 1000;
  const stop = new AbortController();
  let exit: ExitInfo | null = null;
  options.exited?.then((info) => {
    exit = info;
    stop.abort();
  });
  const onAbort = () => stop.abort();
  options.signal?.addEventListener("abort", onAbort, { once: true });

  let lastProblem = "no answer yet";
  let pause = FIRST_PAUSE_MS;
  try {
    while (true) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (exit) throw new NotReadyError(`the server ${describeExit(exit)} before it was ready`);
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        const hint = options.timeoutHint ? ` (${options.timeoutHint})` : "";
        throw new NotReadyError(`the server was not ready after ${options.timeoutS} s${hint}; last health check: ${lastProblem}`);
      }
      const attempt = AbortSignal.any([AbortSignal.timeout(Math.min(ATTEMPT_TIMEOUT_MS, remaining)), stop.signal]);
      try {
        await backend.checkHealth(attempt);
        return (performance.now() - started) / 1000;
      } catch (error) {
        lastProblem = (error as Error)?.name === "TimeoutError" ? "no answer in time" : describeNetworkError(error);
      }
      await sleep(Math.min(pause, Math.max(0, deadline - performance.now())), stop.signal);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

const RETRY_PAUSES_MS = [250, 500, 1000, 2000];

/**
 * A server that is up, asked again (between sweep points): null as soon as one health check
 * answers within `windowMs` (one failed answer is not a dead server); else how many attempts
 * failed and the last reason. Gives up early when `cancelled()` says so.
 */
export async function answersWithin(backend: Backend, windowMs: number, cancelled: () => boolean): Promise<{ attempts: number; last: string } | null> {
  const deadline = performance.now() + windowMs;
  let attempts = 0;
  let last = "";
  for (;;) {
    attempts++;
    const remaining = deadline - performance.now();
    try {
      await backend.checkHealth(AbortSignal.timeout(Math.max(100, Math.min(ATTEMPT_TIMEOUT_MS, remaining))));
      return null;
    } catch (error) {
      last = (error as Error)?.name === "TimeoutError" ? "no answer in time" : describeNetworkError(error);
    }
    const pause = RETRY_PAUSES_MS[Math.min(attempts - 1, RETRY_PAUSES_MS.length - 1)]!;
    if (cancelled() || performance.now() + pause >= deadline) return { attempts, last };
    await Bun.sleep(pause);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
