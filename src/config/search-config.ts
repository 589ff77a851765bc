/** `sweep.search` of a config (and `--find-max`, `--slo`, `--search-resolution`): a capacity search instead of a list of points. */
import type { SearchAxis } from "../sweep/capacity-search.ts";
import { parseSlo, type SloTerm } from "../sweep/slo.ts";
import { DEFAULT_RAMP_UP_PER_CLIENT_S } from "./run-settings.ts";
import { checkNumber, type FieldReader } from "./field-checks.ts";

export interface SearchConfig {
  /** The axis searched: the most clients, or the highest request rate, that meets the SLO. */
  find: SearchAxis;
  /** Every term must hold: "p99_ttft<=500,p99_tpot<=50" (ms), also success_rate>=x, goodput_ratio>=x. */
  slo: string;
  /** Fraction of the requests that must each meet the SLO's TTFT/TPOT/E2E ceilings (goodput ratio); optional. */
  minGoodputRatio?: number;
  /** The answer is within this of the true capacity; default 1 client, or 0.5 req/s. */
  resolution?: number;
  /** First value probed; default 1. */
  start?: number;
  /** Highest value probed; default 4096 clients or 10000 req/s. */
  max?: number;
  /** Reruns of the best point, which must pass each of them; default 1. */
  confirmRuns?: number;
}

export interface ResolvedSearch {
  find: SearchAxis;
  slo: SloTerm[];
  minGoodputRatio: number | null;
  resolution: number;
  start: number;
  max: number;
  confirmRuns: number;
  /** Ramp-up of a clients point: fixed seconds, or null for clients × 0.1 s. */
  rampUpS: number | null;
}

export const SEARCH_FIELDS = ["find", "slo", "minGoodputRatio", "resolution", "start", "max", "confirmRuns"] as const;
export const DEFAULT_SEARCH_RESOLUTION = { clients: 1, rate: 0.5 } as const;
const DEFAULT_SEARCH_MAX = { clients: 4096, rate: 10_000 } as const;

/** Reads `sweep.search`; null when absent, undefined when wrong (the problems are noted). */
export function readSearch(sweep: FieldReader): ResolvedSearch | null | undefined {
  const search = sweep.section("search", false);
  if (!search) return sweep.has("search") ? undefined : null;
  search.known(SEARCH_FIELDS);
  const problems = search.problems;
  const find = search.text("find");
  if (find !== undefined && find !== "clients" && find !== "rate") problems.add(search.at("find"), `expected "clients" or "rate", got ${JSON.stringify(find)}`);
  const sloText = search.text("slo");
  let slo: SloTerm[] | undefined;
  if (sloText !== undefined) {
    const parsed = parseSlo(sloText);
    if (typeof parsed === "string") problems.add(search.at("slo"), parsed);
    else slo = parsed;
  }
  const axis = find === "rate" ? "rate" : "clients";
  const minGoodputRatio = search.number("minGoodputRatio", "non-negative number", null);
  if (typeof minGoodputRatio === "number" && minGoodputRatio > 1) problems.add(search.at("minGoodputRatio"), `expected a fraction between 0 and 1, got ${minGoodputRatio}`);
  const resolution = search.number("resolution", axis === "clients" ? "positive integer" : "positive number", DEFAULT_SEARCH_RESOLUTION[axis]);
  const start = search.number("start", axis === "clients" ? "positive integer" : "positive number", axis === "clients" ? 1 : resolution ?? 1);
  const max = search.number("max", axis === "clients" ? "positive integer" : "positive number", DEFAULT_SEARCH_MAX[axis]);
  if (typeof max === "number" && typeof start === "number" && max < start) problems.add(search.at("max"), `must be at least start (${start}), got ${max}`);
  const confirmRuns = search.number("confirmRuns", "non-negative integer", 1);
  let rampUpS: number | null | undefined = null;
  const rampUp = sweep.object.rampUpS;
  if (typeof rampUp === "function") {
    problems.add(sweep.at("rampUpS"), "a function is not supported with sweep.search: give seconds (a number), or leave it out for clients × 0.1 s");
    rampUpS = undefined;
  } else if (rampUp !== undefined) {
    rampUpS = checkNumber(problems, sweep.at("rampUpS"), rampUp, "non-negative number");
  }
  if (find === undefined || (find !== "clients" && find !== "rate") || !slo || minGoodputRatio === undefined || resolution == null || start == null || max == null || confirmRuns == null || rampUpS === undefined) {
    return undefined;
  }
  return { find, slo, minGoodputRatio, resolution, start, max, confirmRuns, rampUpS };
}

/** The ramp-up of a clients point the search probes. */
export function searchRampUpS(search: ResolvedSearch, clients: number): number {
  return search.rampUpS ?? clients * DEFAULT_RAMP_UP_PER_CLIENT_S;
}
