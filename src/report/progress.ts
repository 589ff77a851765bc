import pc from "picocolors";
import type { RequestStats } from "../metrics/request-stats.ts";
import { percentileOfSorted } from "../metrics/stats.ts";

/** The last `capacity` values pushed, oldest overwritten first. */
export class RollingWindow {
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;

  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }

  push(value: number): void {
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.values.length;
    this.count = Math.min(this.count + 1, this.values.length);
  }

  get size(): number {
    return this.count;
  }

  /** p50 and p99 of what the window holds (numpy's linear percentiles); null when empty. */
  p50p99(): [number, number] | null {
    if (this.count === 0) return null;
    const sorted = this.values.slice(0, this.count).sort();
    return [percentileOfSorted(sorted, 50), percentileOfSorted(sorted, 99)];
  }
}

/** What the panel shows at one moment. */
export interface PanelState {
  title: string;
  elapsedS: number;
  /** 0..1 towards the request budget or the stop time, whichever is nearer; null when neither is known. */
  fraction: number | null;
  etaS: number | null;
  sent: number;
  budget: number | null;
  completed: number;
  failed: number;
  ttft: [number, number] | null;
  tpot: [number, number] | null;
  itl: [number, number] | null;
  /** Requests the rolling latencies are over. */
  window: number;
  tokensPerS: number;
  requestsPerS: number;
  /** Most recent first, with how often each came. */
  recentFailures: [string, number][];
}

const BAR_WIDTH = 30;

export function progressBar(fraction: number, width = BAR_WIDTH): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return "█".repeat(filled) + "░".repeat(width - filled);
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${rest}` : `${m}:${rest}`;
}

const pair = (name: string, values: [number, number] | null, digits: number) =>
  `${name} p50 ${values ? values[0].toFixed(digits) : "—"} p99 ${values ? values[1].toFixed(digits) : "—"} ms`;

/** The panel's lines (a terminal's): the point, the bar, the counts, rolling latencies and throughput, the latest failures. */
export function formatPanel(state: PanelState, width = 100): string[] {
  const bar = state.fraction === null ? "" : `${progressBar(state.fraction)} ${String(Math.floor(state.fraction * 100)).padStart(3)} %  `;
  const inFlight = state.sent - state.completed - state.failed;
  // Past the budget or the stop time, what is left is the requests in flight finishing.
  const draining = state.fraction !== null && state.fraction >= 1 && inFlight > 0;
  const eta = draining ? `draining ${inFlight} in flight` : state.etaS === null ? "ETA —" : `ETA ${formatDuration(state.etaS)}`;
  const failed = state.failed > 0 ? pc.red(`failed ${state.failed}`) : "failed 0";
  const lines = [
    `${pc.bold(state.title)}  ${bar}elapsed ${formatDuration(state.elapsedS)}  ${eta}`,
    `  requests  sent ${state.sent}${state.budget === null ? "" : `/${state.budget}`}  done ${state.completed}  in flight ${inFlight}  ${failed}`,
    `  rolling   ${pair("TTFT", state.ttft, 1)}   ${pair("TPOT", state.tpot, 2)}   ${pair("ITL", state.itl, 2)}  ${pc.dim(`(last ${state.window} requests)`)}`,
    `  output    ${state.tokensPerS.toFixed(1)} tok/s   ${state.requestsPerS.toFixed(2)} req/s  ${pc.dim("(last 10 s)")}`,
  ];
  if (state.recentFailures.length > 0) {
    const text = state.recentFailures.map(([reason, count]) => `×${count} ${reason}`).join("; ");
    lines.push(pc.red(`  failures  ${text.length > width - 12 ? `${text.slice(0, width - 13)}…` : text}`));
  }
  return lines;
}

const LATENCY_WINDOW = 500;
const ITL_SAMPLES_PER_REQUEST = 32;
const THROUGHPUT_WINDOW_MS = 10_000;
const RECENT_FAILURES = 3;

export interface ProgressOptions {
  /** "[2/4] 16 clients". */
  title: string;
  budget: number | null;
  stopTimeS: number | null;
  enabled: boolean;
  stream?: NodeJS.WriteStream;
}

/**
 * The live display while a point runs. On a terminal: a panel redrawn four times a second from
 * what finished requests left behind (per request, never per token, never the sockets). Elsewhere
 * (CI, a log file): a plain line every 10 s.
 */
export class LiveProgress {
  private sent = 0;
  private completed = 0;
  private failed = 0;
  private readonly ttft = new RollingWindow(LATENCY_WINDOW);
  private readonly tpot = new RollingWindow(LATENCY_WINDOW);
  private readonly itl = new RollingWindow(LATENCY_WINDOW * 4);
  /** [finished at (ms since start), output tokens] of recent requests, for throughput. */
  private readonly finishedLog: [number, number][] = [];
  private readonly failures = new Map<string, number>();
  /** The latest distinct failure reasons, most recent first. */
  private lastFailures: string[] = [];
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly started = performance.now();
  private readonly tty: boolean;
  private readonly stream: NodeJS.WriteStream;
  private drawnLines = 0;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  start(): void {
    if (!this.options.enabled) return;
    this.timer = setInterval(() => this.render(), this.tty ? 250 : 10_000);
    this.timer.unref?.();
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.options.enabled && this.tty && this.drawnLines > 0) this.stream.write(`\r\x1b[${this.drawnLines - 1}A\x1b[J`);
    this.drawnLines = 0;
  }

  onSent(): void {
    this.sent++;
  }

  private get shown(): boolean {
    return this.options.enabled;
  }

  /** A request finished: its compact stats, computed once for the metrics, feed the rolling numbers. */
  onFinished(request: RequestStats): void {
    if (!this.shown) return;
    const now = performance.now() - this.started;
    if (request.ok) {
      this.completed++;
      this.ttft.push(request.ttft!);
      if (request.tpot !== null) this.tpot.push(request.tpot);
      const step = Math.max(1, Math.floor(request.itl.length / ITL_SAMPLES_PER_REQUEST));
      for (let i = 0; i < request.itl.length; i += step) this.itl.push(request.itl[i]!);
      this.finishedLog.push([now, request.outTokens]);
    } else {
      this.failed++;
      const reason = request.error ?? "no output tokens";
      this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
      this.lastFailures = [reason, ...this.lastFailures.filter((r) => r !== reason)].slice(0, RECENT_FAILURES);
      this.finishedLog.push([now, 0]);
    }
    // Drop what left the window, in batches: shifting one at a time would cost O(n) per request.
    if (this.finishedLog.length > 1024 && this.finishedLog[512]![0] < now - THROUGHPUT_WINDOW_MS) {
      let first = 0;
      while (first < this.finishedLog.length && this.finishedLog[first]![0] < now - THROUGHPUT_WINDOW_MS) first++;
      this.finishedLog.splice(0, first);
    }
  }

  /** A snapshot of what the panel shows. */
  state(): PanelState {
    const elapsedMs = performance.now() - this.started;
    const elapsedS = elapsedMs / 1000;
    const finished = this.completed + this.failed;
    const { budget, stopTimeS } = this.options;
    const byBudget = budget === null ? null : finished / budget;
    const byTime = stopTimeS === null ? null : elapsedS / stopTimeS;
    const fraction = byBudget === null && byTime === null ? null : Math.min(1, Math.max(byBudget ?? 0, byTime ?? 0));
    let etaS: number | null = null;
    if (byTime !== null) etaS = Math.max(0, stopTimeS! - elapsedS);
    if (budget !== null && finished > 0) {
      const budgetEta = ((budget - finished) * elapsedS) / finished;
      etaS = etaS === null ? budgetEta : Math.min(etaS, budgetEta);
    }
    const windowS = Math.min(THROUGHPUT_WINDOW_MS, elapsedMs) / 1000;
    const recent = this.finishedLog.filter(([at]) => at >= elapsedMs - THROUGHPUT_WINDOW_MS);
    const tokens = recent.reduce((sum, [, n]) => sum + n, 0);
    return {
      title: this.options.title,
      elapsedS,
      fraction,
      etaS,
      sent: this.sent,
      budget,
      completed: this.completed,
      failed: this.failed,
      ttft: this.ttft.p50p99(),
      tpot: this.tpot.p50p99(),
      itl: this.itl.p50p99(),
      window: this.ttft.size,
      tokensPerS: windowS > 0 ? tokens / windowS : 0,
      requestsPerS: windowS > 0 ? recent.filter(([, n]) => n > 0).length / windowS : 0,
      recentFailures: this.lastFailures.map((reason) => [reason, this.failures.get(reason)!]),
    };
  }

  private render(): void {
    const state = this.state();
    if (!this.tty) {
      this.stream.write(`${plainLine(state)}\n`);
      return;
    }
    const columns = this.stream.columns ?? 100;
    // A wrapped line would take two rows and throw off the redraw: each line fits the terminal.
    const lines = formatPanel(state, columns).map((line) => fitWidth(line, columns - 1));
    const up = this.drawnLines > 1 ? `\x1b[${this.drawnLines - 1}A` : "";
    this.stream.write(`\r${up}\x1b[J${lines.join("\n")}`);
    this.drawnLines = lines.length;
  }
}

/** One line for logs: as before the panel, with the rolling TTFT. */
export function plainLine(state: PanelState): string {
  const budget = state.budget === null ? "" : `/${state.budget}`;
  const failed = state.failed > 0 ? pc.red(` ${state.failed} failed`) : "";
  const inFlight = state.sent - state.completed - state.failed;
  const ttft = state.ttft ? `  TTFT p50 ${state.ttft[0].toFixed(1)} ms` : "";
  return (
    `${state.title}  ${state.elapsedS.toFixed(1)} s  sent ${state.sent}${budget}  done ${state.completed}${failed}` +
    `  in flight ${inFlight}  ${(state.completed / Math.max(state.elapsedS, 1e-9)).toFixed(1)} req/s${ttft}`
  );
}

/** The line cut to `width` visible characters (colour codes take no room and are kept). */
export function fitWidth(line: string, width: number): string {
  let visible = 0;
  let out = "";
  for (let i = 0; i < line.length; i++) {
    const escape = /^\x1b\[[0-9;]*m/.exec(line.slice(i, i + 16));
    if (escape) {
      out += escape[0];
      i += escape[0].length - 1;
      continue;
    }
    if (visible === width) return `${out}\x1b[0m`;
    out += line[i];
    visible++;
  }
  return out;
}
