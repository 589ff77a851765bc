/**
 * The config's `sweep` section: its points (the clients or rates axis, input and output lengths,
 * points listed one by one, or a capacity search) and the run settings it gives every point.
 */
import { checkNumber, FieldReader, isPlainObject, join, knob } from "./field-checks.ts";
import { SETTING_FIELDS, type SettingLayer } from "./config-settings.ts";
import type { SweepPoint } from "./bench-config.ts";
import { parsePercentiles, parseThresholds } from "./knob-flags.ts";
import { DEFAULT_RAMP_UP_PER_CLIENT_S } from "./run-settings.ts";
import { readSearch, type ResolvedSearch } from "./search-config.ts";
import { ALIAS_FIELDS, readSettingFields, type GridPoint } from "./sweep-points.ts";

const SWEEP_FIELDS = ["clients", "rates", "inputLens", "outputLens", "points", "numRequests", "stopTimeS", "rampUpS", "drainTimeoutS", "requestTimeoutS", "seed", "turns", "metricPercentiles", "thresholds", "search"] as const;

export interface SweepFields {
  /** The legacy summary of the sweep's settings (filled in from the first point's settings). */
  grid: GridPoint[] | null;
  listed: SettingLayer[] | null;
  layer: SettingLayer;
  axes: string[];
  search: ResolvedSearch | null;
  metricPercentiles: number[];
}

const POINT_FIELDS = [...SETTING_FIELDS, ...Object.keys(ALIAS_FIELDS), "rampUpS"];

export function readSweep(top: FieldReader, base: string): SweepFields | undefined {
  const sweep = top.section("sweep", true);
  if (!sweep) return undefined;
  sweep.known([...new Set([...SWEEP_FIELDS, ...SETTING_FIELDS])]);
  const problems = sweep.problems;
  const layer = readSettingFields(sweep, base);
  if (sweep.has("rampUpTime") && sweep.has("rampUpS")) problems.add(sweep.at("rampUpTime"), "the same setting as sweep.rampUpS: give one");
  const search = readSearch(sweep);
  const axes = (["clients", "rates", "inputLens", "outputLens", "points"] as const).filter((axis) => sweep.has(axis));
  let loads: (SweepPoint | null)[] | undefined = [null];
  let listed: SettingLayer[] | null = null;
  if (sweep.has("search") && axes.length > 0) {
    problems.add("sweep", `give search (a capacity search) or ${axes.join("/")} (a list of points), not both`);
  } else if (sweep.has("points") && axes.length > 1) {
    problems.add("sweep", `give points (listed one by one) or ${axes.filter((axis) => axis !== "points").join("/")} (a grid), not both`);
  } else if (sweep.has("clients") && sweep.has("rates")) {
    problems.add("sweep", "give clients (client counts) or rates (request rates), not both");
  } else if (sweep.has("points")) {
    listed = readListedPoints(sweep, base);
  } else if (sweep.has("rates")) {
    loads = sweep.numberList("rates", "positive number")?.map((rate) => ({ kind: "rate", rate }));
  } else if (sweep.has("clients")) {
    const rampUp = readRampUp(sweep);
    const counts = sweep.numberList("clients", "positive integer");
    loads = undefined;
    if (counts && rampUp) {
      const points: SweepPoint[] = [];
      for (const clients of counts) {
        const rampUpS = rampUp(clients);
        if (rampUpS !== undefined) points.push({ kind: "clients", clients, rampUpS });
      }
      if (points.length === counts.length) loads = points;
    }
  } else if (!sweep.has("search") && axes.length === 0 && !["numClients", "requestRate", "trace", "numPrompts", "maxConcurrency"].some((key) => layer.flags[key] !== undefined)) {
    problems.add("sweep", "give clients (a list of client counts, e.g. [1, 4, 16]) or rates (a list of request rates), or points (listed one by one)");
  }
  if (typeof sweep.object.rampUpS !== "function" && sweep.object.rampUpS !== undefined && !sweep.has("clients") && !sweep.has("search")) {
    const fixed = checkNumber(problems, sweep.at("rampUpS"), sweep.object.rampUpS, "non-negative number");
    if (fixed !== undefined) {
      layer.flags.rampUpTime = fixed;
      layer.fields.rampUpTime = sweep.at("rampUpS");
    }
  }
  const inputLens = sweep.has("inputLens") ? sweep.numberList("inputLens", "positive integer") : [undefined];
  const outputLens = sweep.has("outputLens") ? sweep.numberList("outputLens", "positive integer") : [undefined];

  const numRequests = layer.flags.numRequests ?? layer.flags.numPrompts;
  if (numRequests === undefined && layer.flags.stopTime === undefined && layer.flags.trace === undefined && !listed?.some((entry) => ["numRequests", "numPrompts", "stopTime", "trace"].some((key) => entry.flags[key] !== undefined))) {
    problems.add("sweep", "give numRequests or stopTimeS (or both): each point needs a request budget or a duration");
  }
  // the old fields keep their own checks, which list every problem at once
  sweep.number("numRequests", "positive integer", null);
  sweep.number("stopTimeS", "positive number", null);
  sweep.number("drainTimeoutS", "non-negative number", null);
  sweep.number("requestTimeoutS", "positive number", null);
  sweep.number("seed", "non-negative integer", null);
  sweep.number("turns", "positive integer", null);
  const rawPercentiles = sweep.object.metricPercentiles;
  if (rawPercentiles !== undefined && !Array.isArray(rawPercentiles)) problems.expected(sweep.at("metricPercentiles"), "a list of percentiles such as [50, 95, 99.9]", rawPercentiles);
  const metricPercentiles = Array.isArray(rawPercentiles) ? knob(problems, () => parsePercentiles(sweep.at("metricPercentiles"), rawPercentiles)) : [];
  const rawThresholds = sweep.object.thresholds;
  if (rawThresholds !== undefined && (!Array.isArray(rawThresholds) || rawThresholds.some((t) => typeof t !== "string"))) {
    problems.expected(sweep.at("thresholds"), `a list of strings such as ["p99_ttft<2000", "success_rate>=0.99"]`, rawThresholds);
  }
  if (Array.isArray(rawThresholds)) knob(problems, () => parseThresholds(sweep.at("thresholds"), rawThresholds.filter((t) => typeof t === "string")));
  if (search === undefined || loads === undefined || inputLens === undefined || outputLens === undefined || metricPercentiles === undefined) return undefined;
  const grid: GridPoint[] | null = listed || search ? null : inputLens.flatMap((inputLen) => outputLens.flatMap((outputLen) => loads.map((load) => ({ load, ...(inputLen === undefined ? {} : { inputLen }), ...(outputLen === undefined ? {} : { outputLen }) }))));
  return { grid: search ? [] : grid, listed, layer, axes, search, metricPercentiles };
}

/** `sweep.points`: each entry a point's own settings, over the sweep's. */
function readListedPoints(sweep: FieldReader, base: string): SettingLayer[] | null {
  const value = sweep.object.points;
  if (!Array.isArray(value) || value.length === 0) {
    sweep.problems.expected(sweep.at("points"), "a non-empty list of points such as [{ numClients: 1 }, { numClients: 64, warmupRequests: 32 }]", value);
    return null;
  }
  return value.map((entry, index) => {
    const path = join(sweep.at("points"), index);
    if (!isPlainObject(entry)) {
      sweep.problems.expected(path, "an object of run settings ({ numClients: 4 })", entry);
      return { flags: {}, fields: {} };
    }
    const reader = new FieldReader(sweep.problems, entry, path);
    reader.known(POINT_FIELDS);
    const layer = readSettingFields(reader, base);
    if (entry.rampUpS !== undefined) {
      const rampUp = checkNumber(sweep.problems, reader.at("rampUpS"), entry.rampUpS, "non-negative number");
      if (layer.flags.rampUpTime !== undefined) sweep.problems.add(reader.at("rampUpS"), `the same setting as ${layer.fields.rampUpTime}: give one`);
      layer.flags.rampUpTime = rampUp;
      layer.fields.rampUpTime = reader.at("rampUpS");
    }
    return layer;
  });
}

/** The ramp-up of a point with `clients` users: fixed, computed by the config, or clients × 0.1 s. */
function readRampUp(sweep: FieldReader): ((clients: number) => number | undefined) | undefined {
  const value = sweep.object.rampUpS ?? sweep.object.rampUpTime;
  const path = sweep.at(sweep.has("rampUpS") ? "rampUpS" : "rampUpTime");
  if (value === undefined) return (clients) => clients * DEFAULT_RAMP_UP_PER_CLIENT_S;
  if (typeof value === "function") {
    return (clients) => {
      let result: unknown;
      try {
        result = value(clients);
      } catch (error) {
        sweep.problems.add(path, `the function threw for ${clients} clients: ${(error as Error)?.message ?? String(error)}`);
        return undefined;
      }
      return checkNumber(sweep.problems, `${path}(${clients})`, result, "non-negative number");
    };
  }
  const fixed = checkNumber(sweep.problems, path, value, "non-negative number");
  return fixed === undefined ? undefined : () => fixed;
}
