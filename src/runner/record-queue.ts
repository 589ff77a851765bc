import { yieldToIo } from "../workload/precise-timer.ts";

/**
 * A finished request's bookkeeping (its stats, its line in requests.jsonl, the live panel), done
 * a record per turn of the event loop instead of where the request ended. Answers end together
 * (a batch of equal lengths finishes on one server step): done on the spot, 200 records at ~70 µs
 * each would hold every other stream's next read 14 ms, and that wait would be measured as
 * inter-token latency. Every token's time was taken at its socket read, so nothing measured
 * moves; each record waits at most a few turns.
 */
export class RecordQueue<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private running: Promise<void> | null = null;
  /** What `handle` threw (a full disk): the queue stops, and the next push or drained() throws it. */
  private failure: { error: unknown } | null = null;

  constructor(private readonly handle: (item: T) => void) {}

  push(item: T): void {
    if (this.failure !== null) throw this.failure.error;
    this.queue.push(item);
    this.running ??= this.run();
  }

  /** Resolves once every record pushed so far (and any pushed meanwhile) was handled. */
  async drained(): Promise<void> {
    while (this.running !== null) await this.running;
    if (this.failure !== null) throw this.failure.error;
  }

  private async run(): Promise<void> {
    try {
      while (this.head < this.queue.length) {
        await yieldToIo();
        // a client far behind (thousands queued) catches up faster than one a turn
        const take = Math.max(1, (this.queue.length - this.head) >> BACKLOG_SHIFT);
        for (let i = 0; i < take && this.head < this.queue.length; i++) this.handle(this.queue[this.head++]!);
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
      }
      this.queue.length = 0;
      this.head = 0;
    } catch (error) {
      this.failure = { error };
    } finally {
      this.running = null;
    }
  }
}

/** With n records waiting, a turn handles n >> 6 of them (at least one). */
const BACKLOG_SHIFT = 6;
