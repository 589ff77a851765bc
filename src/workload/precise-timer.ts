/**
 * Waiting until a moment with sub-millisecond accuracy. Bun's setTimeout works in whole
 * milliseconds and may fire up to a millisecond early; the last stretch is covered by
 * setImmediate turns, which still let network events through between checks.
 */

const SPIN_WINDOW_MS = 1.5;

/**
 * Resolves at `target` (a performance.now() time) or just after it, never before; early when
 * `signal` aborts. A target already passed still waits one turn of the event loop, so that a
 * caller running late (rate inf, a client catching up) lets network reads through between sends.
 */
export function waitUntil(target: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    const finish = () => {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
      signal?.removeEventListener("abort", finish);
      resolve();
    };
    const check = () => {
      const left = target - performance.now();
      if (left <= 0) return finish();
      if (left > SPIN_WINDOW_MS) timer = setTimeout(check, left - SPIN_WINDOW_MS);
      else immediate = setImmediate(check);
    };
    signal?.addEventListener("abort", finish, { once: true });
    if (target <= performance.now()) immediate = setImmediate(finish);
    else check();
  });
}

/** One turn of the event loop, network reads included: what a loop with work already due does between two sends. */
export function yieldToIo(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
