/**
 * Capacity search: the highest load (client count or request rate) whose point meets every SLO.
 * Pure strategy, no I/O: it is given a `probe` that runs one point and says whether it passed.
 *
 * 1. Bracket: probe `start`, then double while the point passes (up to `max`); when `start`
 *    already fails, halve down to the axis' smallest value.
 * 2. Bisect between the highest pass and the lowest fail until they are `resolution` apart.
 * 3. Confirm: rerun the best point `confirmRuns` times; a point passes only when every one of its
 *    runs passed, so a lucky run cannot set the answer. A best that fails its rerun becomes the
 *    new upper bound and the search bisects again below it.
 */

export type SearchAxis = "clients" | "rate";

export interface SearchSettings {
  axis: SearchAxis;
  /** First value probed. */
  start: number;
  /** Highest value probed: the search stops there when it still passes. */
  max: number;
  /** The search ends when the highest pass and the lowest fail are at most this far apart. */
  resolution: number;
  /** Extra runs of the best point. */
  confirmRuns: number;
}

/** What one run of a point gave: whether it met every SLO, which ones it missed, and its numbers. */
export interface ProbeResult {
  pass: boolean;
  /** The SLOs missed, e.g. "p99_tpot 231.4 > 215". */
  failed: string[];
  metrics: Record<string, number | null>;
  /** Where the run's files are (the point's folder), when it has any. */
  folder?: string;
}

export interface ProbedPoint extends ProbeResult {
  value: number;
  /** 1 for a point's first run, 2 for its first rerun, ... */
  run: number;
  phase: "bracket" | "bisect" | "confirm";
}

export interface SearchResult {
  axis: SearchAxis;
  /** The highest value whose every run passed; null when none did. */
  best: number | null;
  /** The lowest value seen failing above `best` (null when `max` passed). */
  firstFail: number | null;
  resolution: number;
  /** Every run, in the order probed. */
  points: ProbedPoint[];
  /** Why the search ended where it did. */
  note: string;
}

export type Probe = (value: number, run: number) => Promise<ProbeResult>;

export interface SearchHooks {
  /** Checked before each probe: true ends the search with what it knows. */
  shouldStop?: () => boolean;
  /** Called after each probe with every run so far. */
  onProbed?: (points: readonly ProbedPoint[]) => void;
}

export async function findMax(settings: SearchSettings, probe: Probe, hooks: SearchHooks = {}): Promise<SearchResult> {
  const shouldStop = hooks.shouldStop ?? (() => false);
  checkSettings(settings);
  const points: ProbedPoint[] = [];
  /** value → passed every run so far. */
  const verdicts = new Map<number, boolean>();
  const runsOf = (value: number) => points.filter((p) => p.value === value).length;
  const run = async (value: number, phase: ProbedPoint["phase"]): Promise<boolean> => {
    const result = await probe(value, runsOf(value) + 1);
    points.push({ value, run: runsOf(value) + 1, phase, ...result });
    hooks.onProbed?.(points);
    const pass = (verdicts.get(value) ?? true) && result.pass;
    verdicts.set(value, pass);
    return pass;
  };
  const result = (best: number | null, firstFail: number | null, note: string): SearchResult => ({
    axis: settings.axis,
    best,
    firstFail,
    resolution: settings.resolution,
    points,
    note,
  });
  const stopped = "the search was stopped before it ended";

  // 1. Bracket.
  const smallest = smallestValue(settings);
  let lo: number | null = null;
  let hi: number | null = null;
  let value = snap(settings, Math.min(settings.start, settings.max));
  if (await run(value, "bracket")) {
    lo = value;
    while (lo < settings.max) {
      if (shouldStop()) return result(lo, null, stopped);
      value = snap(settings, Math.min(lo * 2, settings.max));
      if (value <= lo) break; // the grid's highest value under the maximum
      if (await run(value, "bracket")) lo = value;
      else {
        hi = value;
        break;
      }
    }
  } else {
    hi = value;
    while (hi > smallest) {
      if (shouldStop()) return result(null, hi, stopped);
      value = snap(settings, Math.max(hi / 2, smallest));
      if (value >= hi) break;
      if (await run(value, "bracket")) {
        lo = value;
        break;
      }
      hi = value;
    }
    if (lo === null) return result(null, hi, `even ${hi} (the smallest ${settings.axis === "clients" ? "client count" : "rate"} tried) missed the SLO`);
  }

  // 2. Bisect, 3. confirm; a confirmation that fails lowers the upper bound and bisects again.
  for (;;) {
    while (hi !== null && hi - lo! > settings.resolution + 1e-9) {
      if (shouldStop()) return result(lo, hi, stopped);
      const mid = snap(settings, (lo! + hi) / 2);
      if (mid <= lo! || mid >= hi) break;
      if (await run(mid, "bisect")) lo = mid;
      else hi = mid;
    }
    let confirmed = true;
    while (runsOf(lo!) < 1 + settings.confirmRuns) {
      if (shouldStop()) return result(lo, hi, stopped);
      if (!(await run(lo!, "confirm"))) {
        confirmed = false;
        break;
      }
    }
    if (confirmed) {
      const note = hi === null ? `${lo} (the search's maximum) met the SLO: the capacity may be higher` : `${lo} met the SLO in every run; ${hi} did not`;
      return result(lo, hi, note);
    }
    hi = lo;
    const below = [...verdicts].filter(([v, pass]) => pass && v < hi!).map(([v]) => v);
    if (below.length === 0) {
      // Nothing below passed yet: look further down.
      const next = snap(settings, Math.max(hi / 2, smallest));
      if (next >= hi) return result(null, hi, `${hi} failed its rerun and nothing lower was left to try`);
      if (await run(next, "bisect")) lo = next;
      else {
        lo = null;
        let low = next;
        while (low > smallest && lo === null) {
          if (shouldStop()) return result(null, low, stopped);
          const v = snap(settings, Math.max(low / 2, smallest));
          if (v >= low) break;
          if (await run(v, "bisect")) lo = v;
          else low = v;
        }
        if (lo === null) return result(null, low, `nothing down to ${low} met the SLO in every run`);
        hi = low;
      }
    } else {
      lo = Math.max(...below);
    }
  }
}

/** Values on the axis' grid: whole client counts; rates on multiples of the resolution. */
function snap(settings: SearchSettings, value: number): number {
  if (settings.axis === "clients") return Math.max(1, Math.round(value));
  const step = settings.resolution;
  let snapped = Math.round(value / step) * step;
  if (snapped > settings.max) snapped = Math.floor(settings.max / step) * step; // never above the maximum
  return Number(Math.max(step, snapped).toPrecision(12));
}

function smallestValue(settings: SearchSettings): number {
  return settings.axis === "clients" ? 1 : settings.resolution;
}

function checkSettings(settings: SearchSettings): void {
  if (!(settings.start > 0) || !(settings.max >= settings.start) || !(settings.resolution > 0) || !Number.isInteger(settings.confirmRuns) || settings.confirmRuns < 0) {
    throw new Error(`invalid search settings: ${JSON.stringify(settings)}`);
  }
}
