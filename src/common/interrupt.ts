import { StopReason } from "./stop-reason.ts";

/**
 * Ctrl-C and SIGTERM for a command that stops cleanly: the first one aborts `signal` (with a
 * StopReason saying which), a second one ends the process at once with the same exit code (130
 * for Ctrl-C, 143 for SIGTERM), after `onSecond` (which may kill what must not outlive us).
 */
export class Interrupt {
  private readonly controller = new AbortController();
  private code = 130;
  private readonly listener = (signal: NodeJS.Signals) => this.receive(signal);

  constructor(private readonly handlers: { onFirst?: (reason: string, signal: NodeJS.Signals) => void; onSecond?: (signal: NodeJS.Signals) => void } = {}) {}

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** The exit code of an interrupted command. */
  get exitCode(): number {
    return this.code;
  }

  /** Listens for SIGINT and SIGTERM until `stop()`. */
  start(): this {
    process.on("SIGINT", this.listener);
    process.on("SIGTERM", this.listener);
    return this;
  }

  stop(): void {
    process.off("SIGINT", this.listener);
    process.off("SIGTERM", this.listener);
  }

  private receive(signal: NodeJS.Signals): void {
    if (this.aborted) {
      this.handlers.onSecond?.(signal);
      process.exit(this.code);
    }
    this.code = signal === "SIGTERM" ? 143 : 130;
    const reason = signal === "SIGTERM" ? "interrupted (SIGTERM)" : "interrupted (Ctrl-C)";
    this.handlers.onFirst?.(reason, signal);
    this.controller.abort(new StopReason(reason));
  }
}

/** An abort signal's reason as a sentence. */
export function reasonOf(signal: AbortSignal): string {
  const reason = signal.reason;
  return reason instanceof Error ? reason.message : String(reason);
}
