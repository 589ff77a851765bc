import { resolve } from "node:path";
import { isPlainObject } from "./field-checks.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./flag-values.ts";
import { UsageError } from "../common/usage-error.ts";
import { parseExtraBody, parseHeaders, parsePercentiles, parseThresholds } from "./knob-flags.ts";
import { parseSlo } from "../sweep/slo.ts";

/** Flags that change a config for one run without editing it. */
export interface SweepOverrides {
  clients?: number[];
  rates?: number[];
  numRequests?: number;
  stopTimeS?: number;
  /** Absolute: relative to where llmbench was started, not to the config. */
  outputDir?: string;
  seed?: number;
  metricPercentiles?: number[];
  /** As typed (`p99_ttft<2000`): the config's checker reads them with the config's own. */
  thresholds?: string[];
  /** --extra-body, with --temperature/--top-p/--top-k written in. */
  extraBody?: Record<string, unknown>;
  headers?: Record<string, string>;
  /** --find-max, --slo, --search-resolution: written into sweep.search. */
  search?: { find?: string; slo?: string; resolution?: number };
}

const SAMPLING = [["temperature", "--temperature", "temperature"], ["topP", "--top-p", "top_p"], ["topK", "--top-k", "top_k"]] as const;

export function parseSweepFlags(raw: RawFlags): SweepOverrides {
  const overrides: SweepOverrides = {};
  if (raw.clients !== undefined && raw.rates !== undefined) throw new UsageError("give --clients or --rates, not both");
  if (raw.clients !== undefined) overrides.clients = numberList("--clients", raw.clients, (name, item) => flag.positiveInteger(name, item));
  if (raw.rates !== undefined) overrides.rates = numberList("--rates", raw.rates, (name, item) => flag.positiveNumber(name, item, 0));
  if (raw.numRequests !== undefined && raw.numPrompts !== undefined) throw new UsageError("--num-requests and --num-prompts (vLLM's name) are one setting: give one");
  const budget = raw.numRequests ?? raw.numPrompts;
  if (budget !== undefined) overrides.numRequests = flag.positiveInteger(raw.numRequests !== undefined ? "--num-requests" : "--num-prompts", budget);
  if (raw.seed !== undefined) overrides.seed = flag.nonNegativeInteger("--seed", raw.seed, 0);
  if (raw.metricPercentiles !== undefined) overrides.metricPercentiles = parsePercentiles("--metric-percentiles", raw.metricPercentiles);
  if (raw.threshold !== undefined) {
    parseThresholds("--threshold", raw.threshold); // named by its flag when wrong
    overrides.thresholds = [raw.threshold].flat().map(String);
  }
  let extraBody = parseExtraBody("--extra-body", raw.extraBody) ?? undefined;
  for (const [key, name, field] of SAMPLING) {
    if (raw[key] === undefined) continue;
    const value = key === "topK" ? flag.positiveInteger(name, raw[key]) : flag.nonNegativeNumber(name, raw[key], 0);
    extraBody = { ...extraBody, [field]: value };
  }
  if (extraBody !== undefined) overrides.extraBody = extraBody;
  if (raw.header !== undefined) overrides.headers = parseHeaders("--header", raw.header);
  if (raw.stopTime !== undefined) overrides.stopTimeS = flag.positiveSeconds("--stop-time", raw.stopTime, 0);
  if (raw.outputDir !== undefined) overrides.outputDir = resolve(flag.text("--output-dir", raw.outputDir));
  const search = parseSearchFlags(raw);
  if (search) overrides.search = search;
  return overrides;
}

function parseSearchFlags(raw: RawFlags): SweepOverrides["search"] {
  if (raw.findMax === undefined && raw.slo === undefined && raw.searchResolution === undefined) return undefined;
  if (raw.findMax !== undefined && (raw.clients !== undefined || raw.rates !== undefined)) throw new UsageError("give --find-max (a capacity search) or --clients/--rates (a list of points), not both");
  const search: NonNullable<SweepOverrides["search"]> = {};
  if (raw.findMax !== undefined) {
    const find = flag.text("--find-max", raw.findMax);
    if (find !== "clients" && find !== "rate") throw new UsageError(`--find-max: expected clients or rate, got "${find}"`);
    search.find = find;
  }
  if (raw.slo !== undefined) {
    const slo = flag.text("--slo", raw.slo);
    const parsed = parseSlo(slo);
    if (typeof parsed === "string") throw new UsageError(`--slo: ${parsed}`);
    search.slo = slo;
  }
  if (raw.searchResolution !== undefined) search.resolution = flag.positiveNumber("--search-resolution", raw.searchResolution, 0);
  return search;
}

/** "1,4,16" (or a repeated flag) as a list; every item is checked by `parse`, which names the flag. */
function numberList(name: string, value: unknown, parse: (name: string, item: string) => number): number[] {
  const items = [value].flat().flatMap((item) => String(item).split(",")).map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === "")) throw new UsageError(`${name}: expected a comma-separated list such as 1,4,16, got "${[value].flat().join(",")}"`);
  return items.map((item) => parse(name, item));
}

/** The config's default export with the overrides written in, before it is validated. */
export function applyOverrides(config: unknown, overrides: SweepOverrides): unknown {
  if (!isPlainObject(config)) return config;
  const result: Record<string, unknown> = { ...config };
  if (isPlainObject(config.sweep)) {
    const sweep: Record<string, unknown> = { ...config.sweep };
    if (overrides.clients) {
      sweep.clients = overrides.clients;
      delete sweep.rates;
    }
    if (overrides.rates) {
      sweep.rates = overrides.rates;
      delete sweep.clients;
    }
    if (overrides.numRequests !== undefined) sweep.numRequests = overrides.numRequests;
    if (overrides.stopTimeS !== undefined) sweep.stopTimeS = overrides.stopTimeS;
    if (overrides.seed !== undefined) sweep.seed = overrides.seed;
    if (overrides.metricPercentiles !== undefined) sweep.metricPercentiles = overrides.metricPercentiles;
    if (overrides.thresholds !== undefined) sweep.thresholds = [...(Array.isArray(sweep.thresholds) ? sweep.thresholds : []), ...overrides.thresholds];
    if (overrides.search) {
      sweep.search = { ...(isPlainObject(config.sweep.search) ? config.sweep.search : {}), ...overrides.search };
      if (overrides.search.find !== undefined) {
        delete sweep.clients;
        delete sweep.rates;
      }
    }
    result.sweep = sweep;
  }
  const backend = typeof config.backend === "string" ? config.backend : null;
  if ((overrides.extraBody || overrides.headers) && backend !== null && isPlainObject(config.servers) && isPlainObject(config.servers[backend])) {
    const server: Record<string, unknown> = { ...config.servers[backend] };
    if (overrides.extraBody) server.extraBody = { ...(isPlainObject(server.extraBody) ? server.extraBody : {}), ...overrides.extraBody };
    if (overrides.headers) server.headers = { ...(isPlainObject(server.headers) ? server.headers : {}), ...overrides.headers };
    result.servers = { ...config.servers, [backend]: server };
  }
  if (overrides.outputDir !== undefined) result.output = { ...(isPlainObject(config.output) ? config.output : {}), dir: overrides.outputDir };
  return result;
}
