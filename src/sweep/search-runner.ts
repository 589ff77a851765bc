/**
 * The sweep's side of a capacity search: turns a probed value into a sweep point, runs it through
 * the sweep (which archives it like any point), judges it against the SLO, and writes search.json.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../archive/result-files.ts";
import type { SweepPoint } from "../config/bench-config.ts";
import { searchRampUpS, type ResolvedSearch } from "../config/search-config.ts";
import type { GoodputSlo } from "../metrics/goodput.ts";
import type { PointResult } from "../runner/point.ts";
import { findMax, type ProbeResult, type SearchResult } from "./capacity-search.ts";
import { formatSlo, missedTerms, perRequestSlo, sloValue } from "./slo.ts";

/** Unless the SLO names success_rate, a point where more than 1 % of the requests failed misses it. */
export const IMPLICIT_MIN_SUCCESS_RATE = 0.99;

export interface SearchPointRun {
  result: PointResult | null;
  /** The point's folder in the run folder. */
  folder: string;
  /** Why the point did not run to its end, if it did not. */
  cutShort: string | null;
}

export type RunSearchPoint = (point: SweepPoint, goodput: GoodputSlo | null) => Promise<SearchPointRun>;

export interface SearchFile extends SearchResult {
  slo: string;
  min_goodput_ratio: number | null;
}

export async function runCapacitySearch(search: ResolvedSearch, runDir: string, runPoint: RunSearchPoint, shouldStop: () => boolean): Promise<SearchFile> {
  const goodputSlo = needsGoodput(search) ? perRequestSlo(search.slo) : null;
  const file = (result: SearchResult): SearchFile => ({ ...result, slo: formatSlo(search.slo), min_goodput_ratio: search.minGoodputRatio });
  const write = (result: SearchResult) => writeFileAtomic(join(runDir, "search.json"), JSON.stringify(file(result), null, 2) + "\n");
  const settings = { axis: search.find, start: search.start, max: search.max, resolution: search.resolution, confirmRuns: search.confirmRuns };
  const probe = async (value: number): Promise<ProbeResult> => {
    const point: SweepPoint = search.find === "clients" ? { kind: "clients", clients: value, rampUpS: searchRampUpS(search, value) } : { kind: "rate", rate: value };
    return judge(search, await runPoint(point, goodputSlo));
  };
  const result = await findMax(settings, probe, {
    shouldStop,
    onProbed: (points) => write({ axis: search.find, best: null, firstFail: null, resolution: search.resolution, points: [...points], note: "the search is running" }),
  });
  write(result);
  return file(result);
}

function needsGoodput(search: ResolvedSearch): boolean {
  return search.minGoodputRatio !== null || search.slo.some((term) => term.metric === "goodput_ratio");
}

/** Pass or fail, with the SLO's numbers and a few that explain them. */
export function judge(search: ResolvedSearch, run: SearchPointRun): ProbeResult {
  const { result } = run;
  if (!result) return { pass: false, failed: [`the point did not run${run.cutShort ? `: ${run.cutShort}` : ""}`], metrics: {}, folder: run.folder };
  const { summary } = result;
  const goodputRatio = result.goodput?.goodput_ratio ?? null;
  const failed = missedTerms(search.slo, summary, goodputRatio);
  if (!search.slo.some((term) => term.metric === "success_rate") && summary.success_rate < IMPLICIT_MIN_SUCCESS_RATE) {
    failed.push(`success_rate ${round(summary.success_rate)} < ${IMPLICIT_MIN_SUCCESS_RATE} (${summary.failed} of ${summary.requests} requests failed)`);
  }
  if (search.minGoodputRatio !== null && (goodputRatio === null || goodputRatio < search.minGoodputRatio)) {
    failed.push(`goodput_ratio ${goodputRatio === null ? "none" : round(goodputRatio)} < ${search.minGoodputRatio}`);
  }
  if (run.cutShort) failed.push(`cut short: ${run.cutShort}`);
  const metrics: Record<string, number | null> = {
    requests: summary.requests,
    completed: summary.completed,
    failed: summary.failed,
    success_rate: round(summary.success_rate),
    qps: round(summary.qps),
    o_tps: round(summary.o_tps),
    mean_concurrency: round(summary.mean_concurrency),
  };
  for (const term of search.slo) {
    const value = sloValue(term, summary, goodputRatio);
    metrics[term.metric] = value === null ? null : round(value);
  }
  if (goodputRatio !== null) metrics.goodput_ratio = round(goodputRatio);
  return { pass: failed.length === 0, failed, metrics, folder: run.folder };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
