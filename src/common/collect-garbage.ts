/**
 * A full, synchronous garbage collection, for the moments between a point's measurement and its
 * end-of-run work (summary, report) when a pause costs no measurement: what the stream left
 * behind (every finished request's garbage) is freed before the summary and the report allocate
 * their own, rather than piling up under the collector's growth allowance (the heap may grow to
 * twice its live size before it collects). Peak RSS is what this is for: freed pages stay mapped
 * (runtime-tuning.ts turns mimalloc's purge off) and are reused, so the peak is the most ever
 * live plus garbage at once.
 */
export function collectGarbage(): void {
  (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc(true);
}
