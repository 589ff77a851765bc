/**
 * A config's run settings: every `llmbench run` flag has a config field of the flag's name in
 * camelCase (`--warmup-requests` → `warmupRequests`), settable for the whole sweep (`sweep.<name>`)
 * and per point (`sweep.points[i].<name>`), and overridden by the same flag on the sweep command
 * line. Each point's settings are built by the very parser `run` uses, so a sweep point and a
 * `run` with the same settings are the same measurement; its errors are reworded to name the
 * field (or flag) the value came from.
 */
import { UsageError } from "../common/usage-error.ts";
import type { RawFlags } from "./flag-values.ts";
import { parseRunOptions } from "./run-options.ts";
import type { RunSettings } from "./run-settings.ts";

/**
 * The run flags a config gives in `sweep` and `sweep.points[i]` (camelCase). Those it says
 * elsewhere are left out: the server (backend, servers.<name>), the model (model.*), the archive
 * (output.dir), the console (--no-progress) and scale-out (--shard, --workers, --start-at).
 * Lists are `thresholds` (repeatable --threshold) and `headers` (an object: repeatable --header).
 */
export const SETTING_FIELDS = [
  "dataset", "datasetPath", "datasetName", "inputLen", "inputLenStd", "outputLen", "outputLenStd", "prefixLen",
  "randomInputLen", "randomOutputLen", "randomRangeRatio", "randomPrefixLen", "sharegptOutputLen",
  "minInputLen", "maxInputLen", "maxTotalLen", "systemPromptPath", "tokenizer",
  "numRequests", "numPrompts", "numClients", "rampUpTime", "requestRate", "burstiness", "maxConcurrency",
  "trace", "traceSpeed", "numRuns", "numTurns", "thinkTime", "warmupRequests", "goodput", "stopTime", "drainTimeout",
  "requestTimeout", "seed", "pplProto", "thinkTags", "extraBody", "headers", "temperature", "topP", "topK", "ignoreEos",
  "metricPercentiles", "thresholds", "saveResult", "saveDetailed", "resultFilename", "percentileMetrics", "serverMetrics",
  "preconnect", "preconnectRate",
] as const;

export type SettingField = (typeof SETTING_FIELDS)[number];

/** Flags whose values are file paths: relative ones are relative to the config's folder (or, on the command line, to the working folder). */
export const PATH_SETTINGS = ["datasetPath", "systemPromptPath", "trace"] as const;

/** Run flags as the parser gives them, and where each came from ("sweep.warmupRequests", "--seed", "dataset.path"). */
export interface SettingLayer {
  flags: RawFlags;
  fields: Record<string, string>;
}

export const emptyLayer = (): SettingLayer => ({ flags: {}, fields: {} });

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const camel = (name: string) => name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** The config's name of a flag's setting (the config lists what the flag repeats). */
function configName(flagKey: string): string {
  return flagKey === "threshold" ? "thresholds" : flagKey === "header" ? "headers" : flagKey;
}

/** A config field's value as the flag parser reads it: lists for repeatable flags, "Name: value" lines for headers. */
export function flagValue(field: string, value: unknown): { key: string; value: unknown } {
  if (field === "thresholds") return { key: "threshold", value };
  if (field === "headers") {
    const lines =
      typeof value === "object" && value !== null && !Array.isArray(value)
        ? Object.entries(value).map(([name, item]) => `${name}: ${typeof item === "string" ? item : JSON.stringify(item)}`)
        : value;
    return { key: "header", value: lines };
  }
  if (field === "goodput" && typeof value === "object" && value !== null && !Array.isArray(value)) {
    return { key: "goodput", value: Object.entries(value).map(([name, ms]) => `${name}:${String(ms)}`).join(",") };
  }
  return { key: field, value };
}

/** Flags that set one setting under two names (llmbench's and vLLM's): a later layer's replaces an earlier layer's other name. */
const SAME_SETTING: string[][] = [
  ["numRequests", "numPrompts"],
  ["inputLen", "randomInputLen"],
  ["outputLen", "randomOutputLen", "sharegptOutputLen"],
  ["prefixLen", "randomPrefixLen"],
  ["dataset", "datasetName"],
];

/** Layers merged in order, later ones winning; extraBody and headers are merged field by field, thresholds added up. */
export function mergeLayers(...layers: SettingLayer[]): SettingLayer {
  const merged = emptyLayer();
  for (const layer of layers) {
    for (const [key, value] of Object.entries(layer.flags)) {
      if (value === undefined) continue;
      for (const other of SAME_SETTING.find((names) => names.includes(key)) ?? []) {
        if (other !== key && layer.flags[other] === undefined) {
          delete merged.flags[other];
          delete merged.fields[other];
        }
      }
      const before = merged.flags[key];
      if (key === "extraBody" && isObject(before) && isObject(value)) merged.flags[key] = { ...before, ...value };
      else if ((key === "header" || key === "threshold") && before !== undefined) merged.flags[key] = [before, value].flat();
      else merged.flags[key] = value;
      merged.fields[key] = layer.fields[key] ?? merged.fields[key] ?? key;
    }
  }
  return merged;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * One point's settings, by `run`'s parser. A UsageError names the config fields (or sweep flags)
 * the values came from instead of `run`'s flags; settings nobody gave are named as the
 * `sweep.<field>` that would set them.
 */
export function settingsOf(layer: SettingLayer, rename: (flagKey: string) => string | null = () => null): RunSettings {
  try {
    return parseRunOptions(layer.flags, { shards: false });
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    throw new UsageError(
      error.message.replace(/--([a-z][a-z0-9-]*)/g, (typed, name: string) => {
        const key = camel(name);
        return layer.fields[key] ?? rename(key) ?? ((SETTING_FIELDS as readonly string[]).includes(configName(key)) ? `sweep.${configName(key)}` : typed);
      }),
    );
  }
}

/** The flag a setting is typed as on the command line. */
export function flagOf(field: string): string {
  return `--${kebab(field === "thresholds" ? "threshold" : field === "headers" ? "header" : field)}`;
}
