import pc from "picocolors";

/** The one-line live display while a point runs: on a terminal it rewrites itself, elsewhere it prints every 10 s. */
export class ProgressLine {
  sent = 0;
  completed = 0;
  failed = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started = performance.now();
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    private readonly budget: number | null,
    private readonly enabled: boolean,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  start(): void {
    if (!this.enabled) return;
    this.timer = setInterval(() => this.render(), this.tty ? 250 : 10_000);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.enabled && this.tty) this.stream.write("\r\x1b[2K");
  }

  private render(): void {
    const elapsed = (performance.now() - this.started) / 1000;
    const finished = this.completed + this.failed;
    const inFlight = this.sent - finished;
    const budget = this.budget === null ? "" : `/${this.budget}`;
    const failed = this.failed > 0 ? pc.red(` ${this.failed} failed`) : "";
    const line =
      `${this.label}  ${elapsed.toFixed(1)} s  sent ${this.sent}${budget}  done ${this.completed}${failed}` +
      `  in flight ${inFlight}  ${(this.completed / Math.max(elapsed, 1e-9)).toFixed(1)} req/s`;
    this.stream.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }
}
