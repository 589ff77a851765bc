import { COUNTER_NAMES, type Backend, type ServerGauges } from "../backends/backend.ts";
import { describeNetworkError } from "../backends/transport/http.ts";
import { prefixCacheDelta, type PrefixCacheDelta } from "../metrics/prefix-cache.ts";
import { summarizeGauges, type GaugeStats } from "../metrics/server-gauges.ts";

export interface GaugeReport {
  /** "sampled", or why not: the backend has no gauges, the server did not serve them, sampling was off. */
  status: string;
  gauges: Record<string, GaugeStats>;
  /** Every reading, for the report's chart: when (epoch ms) and each gauge's value (null when a reading lacked it). */
  series?: { at_ms: number[]; values: Record<string, (number | null)[]> };
  /** The growth of the server's prefix-cache counters over the point, when it serves them. */
  prefix_cache?: PrefixCacheDelta;
}

/**
 * Reads the server's load gauges (running and waiting requests, KV cache use) once a second
 * while a point runs: what the server was doing while the client measured it. One light GET a
 * second; a server without /metrics is asked once. Its counters (prefix-cache tokens) are read
 * once before the point's first request (readBaseline) and once after its last (stop).
 */
export class GaugeSampler {
  private readonly samples: ServerGauges[] = [];
  private readonly sampledAt: number[] = [];
  private status = "sampled";
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  private stopped = false;
  private first: ServerGauges | null = null;

  constructor(
    private readonly backend: Backend,
    private readonly intervalMs = 1000,
  ) {}

  /**
   * Reads the counters' baseline now (before a shard's start barrier, so that no shard's request
   * can precede it); at most one interval. Without a baseline no growth is reported: a first
   * reading taken once requests are under way would leave some of them out.
   */
  async readBaseline(): Promise<void> {
    if (!this.backend.readGauges) return;
    this.first = await this.read().catch(() => null);
  }

  /** Starts sampling the gauges; resolves once the first reading is in, at most one interval later. */
  start(): Promise<void> {
    if (!this.backend.readGauges) {
      this.status = `not available: the ${this.backend.name} backend reads no server metrics`;
      return Promise.resolve();
    }
    const tick = () => {
      if (this.stopped) return;
      this.inFlight = this.sample().then((more) => {
        if (more && !this.stopped) this.timer = setTimeout(tick, this.intervalMs);
      });
    };
    tick();
    return this.inFlight;
  }

  async stop(): Promise<GaugeReport> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
    const last = this.first === null ? null : await this.read().catch(() => null);
    const delta = prefixCacheDelta(this.first, last);
    const samples = this.samples.map(gaugesOnly);
    const names = [...new Set(samples.flatMap((sample) => Object.keys(sample)))];
    const values = Object.fromEntries(names.map((name) => [name, samples.map((sample) => sample[name] ?? null)]));
    return {
      status: this.status,
      gauges: summarizeGauges(samples),
      ...(samples.length > 0 ? { series: { at_ms: this.sampledAt, values } } : {}),
      ...(delta === null ? {} : { prefix_cache: delta }),
    };
  }

  private read(): Promise<ServerGauges | null> {
    return this.backend.readGauges!(AbortSignal.timeout(this.intervalMs));
  }

  /** One reading; false when there is no point in asking again. */
  private async sample(): Promise<boolean> {
    try {
      const gauges = await this.read();
      if (gauges === null) {
        if (this.samples.length === 0) {
          this.status = "not available: the server serves no /metrics with known gauges";
          return false;
        }
        return true;
      }
      this.samples.push(gauges);
      this.sampledAt.push(Date.now());
      return true;
    } catch (error) {
      if (this.samples.length === 0) {
        this.status = `not available: ${describeNetworkError(error)}`;
        return false;
      }
      return true; // a missed reading under load; the next one may succeed
    }
  }
}

/** A reading without its counters (a total since the server started says nothing as a level). */
function gaugesOnly(reading: ServerGauges): Record<string, number> {
  const gauges: Record<string, number> = { ...reading } as Record<string, number>;
  for (const name of COUNTER_NAMES) delete gauges[name];
  return gauges;
}
