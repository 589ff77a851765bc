import { resolve } from "node:path";
import { parseS3Url, s3Url } from "../archive/s3-client.ts";
import { isPlainObject } from "./field-checks.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./flag-values.ts";
import { UsageError } from "../common/usage-error.ts";
import { translateVllmFlags } from "./vllm-flags.ts";
import { emptyLayer, flagOf, PATH_SETTINGS, SETTING_FIELDS, type SettingLayer } from "./config-settings.ts";
import { parseSlo } from "../sweep/slo.ts";

/** Flags that change a config for one run without editing it. */
export interface SweepOverrides {
  clients?: number[];
  rates?: number[];
  inputLens?: number[];
  outputLens?: number[];
  /** Absolute: relative to where llmbench was started, not to the config. */
  outputDir?: string;
  /** --upload s3://bucket/prefix: written into output.upload. */
  upload?: string;
  /** --find-max, --slo, --search-resolution: written into sweep.search. */
  search?: { find?: string; slo?: string; resolution?: number };
  /** Config fields a run flag names: --backend, --base-url (the server's url), --model (model.name), --tp, --mode, --api-key-env, --insecure. */
  fields?: { backend?: string; url?: string; apiKeyEnv?: string; insecure?: boolean; name?: string; tp?: number; mode?: string; sizeB?: number };
  /** Every other run flag given: the point settings, over the config's at every point. */
  settings?: SettingLayer;
}

/** Run flags the sweep command line takes for the settings of every point (the config's fields of the same names). */
const SETTING_FLAG_KEYS = [...SETTING_FIELDS.filter((field) => field !== "thresholds" && field !== "headers"), "threshold", "header"];

export function parseSweepFlags(raw: RawFlags): SweepOverrides {
  const overrides: SweepOverrides = {};
  if (raw.clients !== undefined && raw.rates !== undefined) throw new UsageError("give --clients or --rates, not both");
  if (raw.clients !== undefined) overrides.clients = numberList("--clients", raw.clients, (name, item) => flag.positiveInteger(name, item));
  if (raw.rates !== undefined) overrides.rates = numberList("--rates", raw.rates, (name, item) => flag.positiveNumber(name, item, 0));
  if (raw.inputLens !== undefined) overrides.inputLens = numberList("--input-lens", raw.inputLens, (name, item) => flag.positiveInteger(name, item));
  if (raw.outputLens !== undefined) overrides.outputLens = numberList("--output-lens", raw.outputLens, (name, item) => flag.positiveInteger(name, item));
  if (raw.outputDir !== undefined) overrides.outputDir = resolve(flag.text("--output-dir", raw.outputDir));
  if (raw.upload !== undefined) {
    const upload = parseS3Url(flag.text("--upload", raw.upload));
    if (typeof upload === "string") throw new UsageError(`--upload: ${upload}`);
    overrides.upload = s3Url(upload);
  }
  const search = parseSearchFlags(raw);
  if (search) overrides.search = search;

  const fields: NonNullable<SweepOverrides["fields"]> = {};
  // vLLM's --host/--port and --endpoint say what --base-url and --backend say
  const server = translateVllmFlags({ backend: raw.backend, baseUrl: raw.baseUrl, host: raw.host, port: raw.port, endpoint: raw.endpoint });
  if (server.backend !== undefined) fields.backend = flag.text("--backend", server.backend);
  if (server.baseUrl !== undefined) fields.url = flag.text("--base-url", server.baseUrl);
  if (raw.apiKeyEnv !== undefined) fields.apiKeyEnv = flag.text("--api-key-env", raw.apiKeyEnv);
  if (raw.insecure === true) fields.insecure = true;
  if (raw.model !== undefined) fields.name = flag.text("--model", raw.model);
  if (raw.tp !== undefined) fields.tp = flag.positiveInteger("--tp", raw.tp);
  if (raw.mode !== undefined) fields.mode = flag.text("--mode", raw.mode);
  if (raw.modelSize !== undefined) fields.sizeB = flag.positiveNumber("--model-size", raw.modelSize, 0);
  if (Object.keys(fields).length > 0) overrides.fields = fields;

  const given: RawFlags = { ...raw, numClients: raw.numClients ?? raw.numThreads, stopTime: raw.stopTime ?? raw.threadStopTime };
  const settings = emptyLayer();
  for (const key of SETTING_FLAG_KEYS) {
    let value = given[key];
    if (value === undefined || ((key === "serverMetrics" || key === "preconnect") && value !== false)) continue; // cac sets --no-x's x to true unless given
    if ((PATH_SETTINGS as readonly string[]).includes(key) && typeof value === "string") value = resolve(value);
    settings.flags[key] = value;
    settings.fields[key] = flagOf(key);
  }
  if (Object.keys(settings.flags).length > 0) overrides.settings = settings;
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

const COMMAND_LINE = Symbol("llmbench sweep command line settings");

/** The run settings the sweep command line gave, as applyOverrides attached them to the config. */
export function commandLineSettings(config: unknown): SettingLayer {
  return (isPlainObject(config) && (config as { [COMMAND_LINE]?: SettingLayer })[COMMAND_LINE]) || emptyLayer();
}

/** The config's default export with the overrides written in, before it is validated. */
export function applyOverrides(config: unknown, overrides: SweepOverrides): unknown {
  if (!isPlainObject(config)) return config;
  const result: Record<string, unknown> = { ...config };
  if (isPlainObject(config.sweep)) {
    const sweep: Record<string, unknown> = { ...config.sweep };
    if (overrides.clients || overrides.rates) {
      delete sweep.clients;
      delete sweep.rates;
      delete sweep.points;
      if (overrides.clients) sweep.clients = overrides.clients;
      if (overrides.rates) sweep.rates = overrides.rates;
    }
    if (overrides.inputLens) sweep.inputLens = overrides.inputLens;
    if (overrides.outputLens) sweep.outputLens = overrides.outputLens;
    if (overrides.search) {
      sweep.search = { ...(isPlainObject(config.sweep.search) ? config.sweep.search : {}), ...overrides.search };
      if (overrides.search.find !== undefined) {
        delete sweep.clients;
        delete sweep.rates;
        delete sweep.points;
      }
    }
    result.sweep = sweep;
  }
  const fields = overrides.fields ?? {};
  if (fields.backend !== undefined) result.backend = fields.backend;
  const backend = typeof result.backend === "string" ? result.backend : null;
  if ((fields.url !== undefined || fields.apiKeyEnv !== undefined || fields.insecure) && backend !== null && isPlainObject(config.servers) && isPlainObject(config.servers[backend])) {
    const server: Record<string, unknown> = { ...config.servers[backend] };
    if (fields.url !== undefined) server.url = fields.url;
    if (fields.apiKeyEnv !== undefined) server.apiKeyEnv = fields.apiKeyEnv;
    if (fields.insecure) server.insecure = true;
    result.servers = { ...config.servers, [backend]: server };
  }
  if ((fields.name ?? fields.tp ?? fields.mode ?? fields.sizeB) !== undefined && isPlainObject(config.model)) {
    const model: Record<string, unknown> = { ...config.model };
    if (fields.name !== undefined) model.name = fields.name;
    if (fields.tp !== undefined) model.tp = fields.tp;
    if (fields.mode !== undefined) model.mode = fields.mode;
    if (fields.sizeB !== undefined) model.sizeB = fields.sizeB;
    result.model = model;
  }
  if (overrides.outputDir !== undefined) result.output = { ...(isPlainObject(result.output) ? result.output : {}), dir: overrides.outputDir };
  if (overrides.upload !== undefined) result.output = { ...(isPlainObject(result.output) ? result.output : {}), upload: overrides.upload };
  if (overrides.settings) Object.defineProperty(result, COMMAND_LINE, { value: overrides.settings, enumerable: false });
  return result;
}
