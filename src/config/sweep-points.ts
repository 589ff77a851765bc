/**
 * A sweep's points and each one's settings: the axes (clients or rates, input and output lengths)
 * make a grid, or `sweep.points` lists points one by one; every point's settings are the sweep's
 * with the point's values written over, read by `run`'s parser (config-settings.ts).
 */
import { isAbsolute, resolve } from "node:path";
import type { PointLengths, ResolvedBenchConfig, SweepPoint } from "./bench-config.ts";
import { emptyLayer, flagOf, flagValue, mergeLayers, PATH_SETTINGS, SETTING_FIELDS, settingsOf, type SettingLayer } from "./config-settings.ts";
import { join, type FieldProblems, type FieldReader } from "./field-checks.ts";
import type { RunSettings } from "./run-settings.ts";
import { UsageError } from "../common/usage-error.ts";

/** Old config names of run settings, still read: field → the setting's flag key. */
export const ALIAS_FIELDS: Record<string, string> = {
  stopTimeS: "stopTime",
  drainTimeoutS: "drainTimeout",
  requestTimeoutS: "requestTimeout",
  turns: "numTurns",
};

/** The run settings a config object gives (its setting fields and their old names), as flags; paths made absolute against `base`. */
export function readSettingFields(reader: FieldReader, base: string): SettingLayer {
  const layer: SettingLayer = { flags: {}, fields: {} };
  for (const field of [...SETTING_FIELDS, ...Object.keys(ALIAS_FIELDS)]) {
    let value = reader.object[field];
    if (value === undefined) continue;
    const { key, value: flagged } = flagValue(field, value);
    const setting = ALIAS_FIELDS[field] ?? key;
    if (layer.flags[setting] !== undefined) {
      reader.problems.add(reader.at(field), `the same setting as ${layer.fields[setting]}: give one`);
      continue;
    }
    value = flagged;
    if ((PATH_SETTINGS as readonly string[]).includes(setting) && typeof value === "string" && !isAbsolute(value)) value = resolve(base, value);
    if (setting === "tokenizer" && typeof value === "string" && /[/\\]/.test(value)) value = resolve(base, value);
    layer.flags[setting] = value;
    layer.fields[setting] = reader.at(field);
  }
  return layer;
}

/** The flags of a grid point: its load and its lengths, each named by the axis it comes from. */
export function axisLayer(point: SweepPoint | PointLengths): SettingLayer {
  const layer: SettingLayer = { flags: {}, fields: {} };
  const set = (key: string, value: unknown, field: string) => {
    layer.flags[key] = value;
    layer.fields[key] = field;
  };
  if (!("kind" in point)) {
    // lengths alone
  } else if (point.kind === "clients") {
    set("numClients", point.clients, "sweep.clients");
    set("rampUpTime", point.rampUpS, "sweep.rampUpS");
  } else if (point.kind === "rate") {
    set("requestRate", point.rate, "sweep.rates");
  }
  if (point.inputLen !== undefined) {
    set("dataset", "synthetic", "sweep.inputLens");
    set("inputLen", point.inputLen, "sweep.inputLens");
  }
  if (point.outputLen !== undefined) set("outputLen", point.outputLen, "sweep.outputLens");
  return layer;
}

/** A point as the sweep shows and archives it, from its settings. */
export function pointOfSettings(settings: RunSettings, lengths: { inputLen?: number; outputLen?: number }): SweepPoint {
  const base =
    settings.traceFile !== null
      ? { kind: "trace" as const, trace: settings.traceFile.path, speed: settings.traceFile.speed }
      : settings.requestRate !== null
        ? { kind: "rate" as const, rate: settings.requestRate }
        : { kind: "clients" as const, clients: settings.numClients, rampUpS: settings.rampUpTimeS };
  return { ...base, ...lengths };
}

/**
 * The config's dataset file (dataset.path) is every point's unless a point brings its own prompts
 * (synthetic ones, a trace): then it is left out rather than refused, so that one config can
 * sweep its dataset and an input-length grid.
 */
function withoutUnusedDataset(layer: SettingLayer): SettingLayer {
  const ownPrompts = layer.flags.dataset === "synthetic" || layer.flags.datasetName === "random" || layer.flags.trace !== undefined;
  if (!ownPrompts || layer.fields.datasetPath !== "dataset.path") return layer;
  const { datasetPath: _path, ...flags } = layer.flags;
  return { flags, fields: layer.fields };
}

/** Settings a grid axis or the command line must not also set: the axis decides them. */
const AXIS_SETTINGS: Record<string, string> = { numClients: "clients", requestRate: "rates", inputLen: "inputLens", outputLen: "outputLens" };

/** A grid point before its settings are read: a load from the clients or rates axis (null: the sweep's own numClients, requestRate or trace), and lengths. */
export interface GridPoint {
  load: SweepPoint | null;
  inputLen?: number;
  outputLen?: number;
}

export interface PointsInput {
  /** Points from the axes (clients × rates × lengths), or null when `sweep.points` lists them. */
  grid: GridPoint[] | null;
  /** `sweep.points`, each entry's settings. */
  listed: SettingLayer[] | null;
  /** The config's sections and `sweep` (every point starts from them). */
  layer: SettingLayer;
  /** The sweep command line's run flags, which win over the config. */
  commandLine: SettingLayer;
  /** The axes the config (or command line) sweeps: "clients", "inputLens", … */
  axes: string[];
  /** How a flag key not given anywhere is named in an error (dataset.path for datasetPath, …). */
  rename: (flagKey: string) => string | null;
}

/** Every point and its settings; each problem is added once, naming its fields. */
export function resolvePoints(problems: FieldProblems, input: PointsInput): { points: SweepPoint[]; settings: RunSettings[] } | undefined {
  for (const [key, axis] of Object.entries(AXIS_SETTINGS)) {
    if (input.commandLine.flags[key] !== undefined && input.axes.includes(axis)) {
      problems.add(flagOf(key), `the config sweeps sweep.${axis}: give --${axis.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} to change the axis`);
    }
    // the sweep's own value and its axis contradict each other; a section's default (dataset.outputLen) just gives way
    if (input.layer.flags[key] !== undefined && input.layer.fields[key]?.startsWith("sweep.") && input.axes.includes(axis)) {
      problems.add(input.layer.fields[key]!, `sweep.${axis} sets it at each point: give one`);
    }
  }
  if (problems.list.length > 0) return undefined;
  const points: SweepPoint[] = [];
  const settings: RunSettings[] = [];
  const seen = new Set<string>();
  const attempt = (layer: SettingLayer, where: string | null, point: (settings: RunSettings) => SweepPoint) => {
    try {
      const resolved = settingsOf(withoutUnusedDataset(layer), input.rename);
      settings.push(resolved);
      points.push(point(resolved));
    } catch (error) {
      if (!(error instanceof UsageError)) throw error;
      if (!seen.has(error.message)) problems.list.push(where && !error.message.includes(where) ? `${where}: ${error.message}` : error.message);
      seen.add(error.message);
    }
  };
  if (input.grid) {
    for (const { load, ...lengths } of input.grid) {
      const layer = mergeLayers(input.layer, load ? axisLayer(load) : emptyLayer(), axisLayer(lengths), input.commandLine);
      attempt(layer, null, (resolved) => (load ? { ...load, ...(load.kind === "clients" ? { rampUpS: resolved.rampUpTimeS } : {}), ...lengths } : pointOfSettings(resolved, lengths)));
    }
  } else {
    input.listed?.forEach((entry, index) => {
      const lengths = {
        ...(typeof entry.flags.inputLen === "number" ? { inputLen: entry.flags.inputLen } : {}),
        ...(typeof entry.flags.outputLen === "number" ? { outputLen: entry.flags.outputLen } : {}),
      };
      attempt(mergeLayers(input.layer, entry, input.commandLine), join("sweep.points", index), (resolved) => pointOfSettings(resolved, lengths));
    });
  }
  return problems.list.length > 0 ? undefined : { points, settings };
}

/** The settings of point `index` of the sweep; a point a search adds gets the sweep's settings with its load written over. */
export function settingsForPoint(config: ResolvedBenchConfig, point: SweepPoint, index: number | null = null): RunSettings {
  const listed = index === null ? -1 : config.sweep.points.indexOf(point) === index ? index : -1;
  if (listed >= 0) return config.settings.points[listed]!;
  const settings = settingsOf(mergeLayers(config.settings.layer, axisLayer(point)));
  return { ...settings, apiKeyEnv: config.server.apiKeyEnv };
}

/** The settings every point shares what it can of (the first point's, or a search's start): for the backend of health checks and the dataset check. */
export function baseSettings(config: ResolvedBenchConfig): RunSettings {
  const first = config.settings.points[0];
  if (first) return first;
  const search = config.sweep.search!;
  return settingsForPoint(config, search.find === "clients" ? { kind: "clients", clients: search.start, rampUpS: search.rampUpS ?? 0 } : { kind: "rate", rate: search.start });
}
