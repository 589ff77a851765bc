import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { TOKENIZER_NAMES } from "../dataset/tokenizer.ts";
import { llmbenchCommand } from "../common/self-command.ts";
import {
  DEFAULT_RAMP_UP_PER_CLIENT_S,
  DEFAULT_READY_TIMEOUT_S,
  DEFAULT_STOP_GRACE_S,
  type LaunchInput,
  type ResolvedBenchConfig,
  type ResolvedLaunch,
  type SweepPoint,
} from "./bench-config.ts";
import { checkNumber, describeValue, FieldProblems, FieldReader, isPlainObject, join } from "./field-checks.ts";
import { readSearch, searchRampUpS, type ResolvedSearch } from "./search-config.ts";
import { emptyLayer, mergeLayers, SETTING_FIELDS, type SettingLayer } from "./config-settings.ts";
import { ALIAS_FIELDS, readSettingFields, resolvePoints, type GridPoint } from "./sweep-points.ts";
import { commandLineSettings } from "./sweep-flags.ts";
import { UsageError } from "../common/usage-error.ts";
import { parseExtraBody, parseHeaders, parsePercentiles, parseThresholds } from "./knob-flags.ts";

const TOP_FIELDS = ["backend", "model", "servers", "dataset", "sweep", "output"] as const;
const MODEL_FIELDS = ["tag", "sizeB", "tp", "mode", "path", "tokenizerPath", "name"] as const;
const SERVER_FIELDS = ["url", "launch", "apiKeyEnv", "insecure", "extraBody", "headers"] as const;
const LAUNCH_FIELDS = ["command", "env", "cwd", "readyTimeoutS", "stopGraceS"] as const;
const DATASET_FIELDS = ["path", "tokenizer", "outputLen", "systemPrompt"] as const;
const SYSTEM_PROMPT_FIELDS = ["enabled", "path"] as const;
const SWEEP_FIELDS = ["clients", "rates", "inputLens", "outputLens", "points", "numRequests", "stopTimeS", "rampUpS", "drainTimeoutS", "requestTimeoutS", "seed", "turns", "metricPercentiles", "thresholds", "search"] as const;
const OUTPUT_FIELDS = ["dir"] as const;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Checks a loaded config and fills in its defaults. Every wrong field is named, with what was
 * expected, in one UsageError (exit 2), before any server starts. Relative paths are relative to
 * the config file's folder. `knownBackends` are the protocols this build of llmbench speaks.
 */
export function resolveConfig(raw: unknown, configPath: string, knownBackends: readonly string[]): ResolvedBenchConfig {
  const problems = new FieldProblems();
  const base = dirname(configPath);
  const fail = () => new UsageError(`${configPath} is not a valid config:\n${problems.list.map((p) => `  - ${p}`).join("\n")}`);
  if (!isPlainObject(raw)) {
    problems.expected("export default", "a config object (export default defineConfig({ ... }))", raw);
    throw fail();
  }
  const top = new FieldReader(problems, raw, "");
  top.known(TOP_FIELDS);

  const backend = top.text("backend");
  if (backend !== undefined && !knownBackends.includes(backend)) {
    problems.add("backend", `expected one of the backends this llmbench speaks (${knownBackends.join(", ")}), got ${describeValue(backend)}`);
  }
  const model = readModel(top);
  const server = readServers(top, backend);
  const dataset = readDataset(top, base);
  const sweep = readSweep(top, base);
  const output = top.section("output", false);
  output?.known(OUTPUT_FIELDS);
  const outputDir = resolve(base, output?.text("dir", "result") ?? "result");

  if (problems.list.length > 0 || !backend || !model || !server || !dataset || !sweep) throw fail();
  const sections = sectionLayer(backend, model, server, dataset);
  for (const key of Object.keys(sections.flags)) {
    if (sweep.layer.flags[key] !== undefined && key !== "extraBody" && key !== "header") problems.add(sweep.layer.fields[key]!, `the same setting as ${sections.fields[key]}: give one`);
  }
  const layer = mergeLayers(sections, sweep.layer);
  const commandLine = commandLineSettings(raw);
  const rename = (key: string) => RENAMED[key] ?? (key === "baseUrl" ? `servers.${backend}.url` : null);
  const resolved = problems.list.length > 0 ? undefined : resolvePoints(problems, { grid: sweep.grid, listed: sweep.listed, layer, commandLine, axes: sweep.axes, rename });
  let first = resolved?.settings[0];
  if (resolved && sweep.search) {
    const start: SweepPoint = sweep.search.find === "clients" ? { kind: "clients", clients: sweep.search.start, rampUpS: searchRampUpS(sweep.search, sweep.search.start) } : { kind: "rate", rate: sweep.search.start };
    first = resolvePoints(problems, { grid: [{ load: start }], listed: null, layer, commandLine, axes: [], rename })?.settings[0];
  }
  if (problems.list.length > 0 || !resolved || !first) throw fail();
  // A config names the key's variable with its default; unset, no key is sent (run's --api-key-env must be set).
  for (const settings of resolved.settings) settings.apiKeyEnv = server.apiKeyEnv;
  first.apiKeyEnv = server.apiKeyEnv;
  const input: LaunchInput = {
    configPath,
    backend,
    model,
    server: { url: server.url, apiKeyEnv: server.apiKeyEnv, insecure: server.insecure, extraBody: server.extraBody, headers: server.headers },
    dataset: { ...dataset, path: first.datasetPath, tokenizer: first.tokenizer },
    sweep: {
      points: resolved.points,
      numRequests: first.numRequests,
      stopTimeS: first.stopTimeS,
      drainTimeoutS: first.drainTimeoutS,
      requestTimeoutS: first.requestTimeoutS,
      seed: first.seed,
      turns: first.numTurns,
      metricPercentiles: sweep.metricPercentiles,
      thresholds: first.thresholds,
      search: sweep.search,
    },
    outputDir,
  };
  const launch = server.launch && resolveLaunch(problems, server.launch, input, base);
  if (problems.list.length > 0 || launch === undefined) throw fail();
  return { ...input, launch, settings: { points: resolved.settings, layer: mergeLayers(layer, commandLine) } };
}

/** Run settings not given anywhere are named, in errors, as the config field that sets them. */
const RENAMED: Record<string, string> = { datasetPath: "dataset.path", tokenizer: "dataset.tokenizer", model: "model.name", tp: "model.tp", mode: "model.mode" };

/** The run settings the config's sections give: the server, the model's name and labels, the dataset. */
function sectionLayer(backend: string, model: ResolvedBenchConfig["model"], server: ServerFields, dataset: DatasetFields): SettingLayer {
  const layer = emptyLayer();
  const set = (key: string, value: unknown, field: string) => {
    if (value === undefined || value === null) return;
    layer.flags[key] = value;
    layer.fields[key] = field;
  };
  set("backend", backend, "backend");
  set("baseUrl", server.url, `servers.${backend}.url`);
  set("insecure", server.insecure || undefined, `servers.${backend}.insecure`);
  set("extraBody", server.extraBody, `servers.${backend}.extraBody`);
  set("header", Object.entries(server.headers).map(([name, value]) => `${name}: ${value}`), `servers.${backend}.headers`);
  set("model", model.name, "model.name");
  set("modelSize", model.sizeB === null ? model.tag : String(model.sizeB), "model.sizeB");
  set("tp", model.tp, "model.tp");
  set("mode", model.mode || undefined, "model.mode");
  set("datasetPath", dataset.path, "dataset.path");
  set("tokenizer", dataset.tokenizer, "dataset.tokenizer");
  set("outputLen", dataset.outputLen, "dataset.outputLen");
  set("systemPromptPath", dataset.systemPrompt.enabled ? dataset.systemPrompt.path : null, "dataset.systemPrompt.path");
  return layer;
}

function readModel(top: FieldReader): ResolvedBenchConfig["model"] | undefined {
  const model = top.section("model", true);
  if (!model) return undefined;
  model.known(MODEL_FIELDS);
  const tag = model.text("tag");
  const sizeB = model.number("sizeB", "positive number", null);
  const tp = model.number("tp", "positive integer", 1);
  const mode = model.text("mode", "");
  const path = model.optionalText("path");
  const tokenizerPath = model.optionalText("tokenizerPath");
  const name = model.optionalText("name");
  if (tag === undefined || sizeB === undefined || tp == null || path === undefined || tokenizerPath === undefined || name === undefined) {
    return undefined;
  }
  return { tag, sizeB, tp, mode, path, tokenizerPath, name: name ?? path ?? tag };
}

interface ServerFields {
  url: string;
  apiKeyEnv: string;
  insecure: boolean;
  extraBody: Record<string, unknown> | null;
  headers: Record<string, string>;
  /** null for "already-running"; the unresolved launch section otherwise. */
  launch: FieldReader | null;
}

/** Every server entry is checked (a typo in one you switch to later is still a typo); the chosen one is returned. */
function readServers(top: FieldReader, backend: string | undefined): ServerFields | undefined {
  const servers = top.section("servers", true);
  if (!servers) return undefined;
  let chosen: ServerFields | undefined;
  for (const name of Object.keys(servers.object)) {
    const entry = servers.section(name, true);
    if (!entry) continue;
    const fields = readServer(entry);
    if (name === backend) chosen = fields;
  }
  if (backend !== undefined && servers.object[backend] === undefined) {
    servers.problems.add(join("servers", backend), `is required: backend is ${JSON.stringify(backend)}, so servers.${backend} must say how to reach it`);
  }
  return chosen;
}

function readServer(entry: FieldReader): ServerFields | undefined {
  entry.known(SERVER_FIELDS);
  const url = entry.text("url");
  if (url !== undefined && !isServerUrl(url)) entry.problems.expected(entry.at("url"), "an http(s):// URL or host:port", url);
  const apiKeyEnv = entry.text("apiKeyEnv", "OPENAI_API_KEY");
  if (apiKeyEnv !== undefined && !ENV_NAME.test(apiKeyEnv)) {
    // Never echo what was there: it may be the key itself.
    entry.problems.add(entry.at("apiKeyEnv"), "expected the NAME of an environment variable (such as OPENAI_API_KEY), not a key");
  }
  const insecure = entry.boolean("insecure", false);
  let launch: FieldReader | null | undefined;
  const rawLaunch = entry.object.launch;
  if (rawLaunch === "already-running") launch = null;
  else if (isPlainObject(rawLaunch)) launch = entry.section("launch", true)!;
  else entry.problems.expected(entry.at("launch"), `{ command: [...] } or "already-running"`, rawLaunch);
  if (launch) checkLaunchShape(launch);
  const extraBody = knob(entry.problems, () => parseExtraBody(entry.at("extraBody"), entry.object.extraBody));
  const rawHeaders = entry.object.headers;
  if (rawHeaders !== undefined && !isPlainObject(rawHeaders)) entry.problems.expected(entry.at("headers"), `an object of header names and values ({ "X-Route": "a" })`, rawHeaders);
  const headerLines = isPlainObject(rawHeaders) ? Object.entries(rawHeaders).map(([name, value]) => `${name}: ${typeof value === "string" ? value : JSON.stringify(value)}`) : [];
  const headers = knob(entry.problems, () => parseHeaders(entry.at("headers"), headerLines));
  if (url === undefined || apiKeyEnv === undefined || insecure === undefined || launch === undefined || extraBody === undefined || headers === undefined) return undefined;
  return { url: url.replace(/\/+$/, ""), apiKeyEnv, insecure, launch, extraBody, headers };
}

/** A knob read by the flags' own parser: its UsageError (which names the field) becomes one of the config's problems. */
function knob<T>(problems: FieldProblems, read: () => T): T | undefined {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    problems.list.push(error.message);
    return undefined;
  }
}

function isServerUrl(url: string): boolean {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    try {
      const parsed = new URL(url);
      return (parsed.protocol === "http:" || parsed.protocol === "https:") && parsed.hostname !== "";
    } catch {
      return false;
    }
  }
  return /^(\[[0-9a-fA-F:.]+\]|[^\s/:[\]]+):\d{1,5}$/.test(url);
}

function checkLaunchShape(launch: FieldReader): void {
  launch.known(LAUNCH_FIELDS);
  const command = launch.object.command;
  if (typeof command !== "function") checkCommand(launch.problems, launch.at("command"), command);
  launch.stringRecord("env");
  launch.optionalText("cwd");
  launch.number("readyTimeoutS", "positive number", DEFAULT_READY_TIMEOUT_S);
  launch.number("stopGraceS", "non-negative number", DEFAULT_STOP_GRACE_S);
}

function checkCommand(problems: FieldProblems, path: string, command: unknown): command is string[] {
  if (!Array.isArray(command) || command.length === 0) {
    problems.expected(path, "a non-empty argv array such as [\"python\", \"-m\", \"vllm.entrypoints.openai.api_server\", ...] (or a function returning one)", command);
    return false;
  }
  let valid = true;
  command.forEach((item, index) => {
    if (typeof item !== "string" || (index === 0 && item.trim() === "")) {
      problems.expected(join(path, index), index === 0 ? "the program to run" : "a string", item);
      valid = false;
    }
  });
  return valid;
}

function resolveLaunch(problems: FieldProblems, launch: FieldReader, input: LaunchInput, base: string): ResolvedLaunch | undefined {
  const path = launch.at("command");
  let command: unknown = launch.object.command;
  if (typeof command === "function") {
    try {
      command = command(input, { llmbench: llmbenchCommand(), ...hostAndPort(input.server.url) });
    } catch (error) {
      problems.add(path, `the function threw: ${(error as Error)?.message ?? String(error)}`);
      return undefined;
    }
  }
  if (!checkCommand(problems, path, command)) return undefined;
  const cwd = launch.optionalText("cwd");
  return {
    command,
    env: launch.stringRecord("env") ?? {},
    cwd: resolve(base, cwd ?? "."),
    readyTimeoutS: launch.number("readyTimeoutS", "positive number", DEFAULT_READY_TIMEOUT_S)!,
    stopGraceS: launch.number("stopGraceS", "non-negative number", DEFAULT_STOP_GRACE_S)!,
  };
}

export function hostAndPort(url: string): { host: string; port: number | null } {
  if (url.includes("://")) {
    const parsed = new URL(url);
    const defaultPort = parsed.protocol === "https:" ? 443 : 80;
    return { host: parsed.hostname.replace(/^\[|\]$/g, ""), port: parsed.port ? Number(parsed.port) : defaultPort };
  }
  const at = url.lastIndexOf(":");
  return { host: url.slice(0, at).replace(/^\[|\]$/g, ""), port: Number(url.slice(at + 1)) };
}

interface DatasetFields {
  path: string | null;
  tokenizer: string | null;
  outputLen: number | null;
  systemPrompt: { enabled: boolean; path: string | null };
}

function readDataset(top: FieldReader, base: string): DatasetFields | undefined {
  const dataset = top.section("dataset", false);
  if (!dataset) return top.has("dataset") ? undefined : { path: null, tokenizer: null, outputLen: null, systemPrompt: { enabled: false, path: null } };
  dataset.known(DATASET_FIELDS);
  const path = dataset.optionalText("path");
  const tokenizer = dataset.optionalText("tokenizer");
  const isFile = tokenizer !== null && tokenizer !== undefined && /[/\\.]/.test(tokenizer);
  if (tokenizer && !isFile && !(TOKENIZER_NAMES as readonly string[]).includes(tokenizer)) {
    dataset.problems.expected(dataset.at("tokenizer"), `one of ${TOKENIZER_NAMES.join(", ")}, or a path to a model's tokenizer.json`, tokenizer);
  }
  if (isFile && !existsSync(resolve(base, tokenizer))) dataset.problems.add(dataset.at("tokenizer"), `no such file: ${resolve(base, tokenizer)}`);
  const outputLen = dataset.number("outputLen", "positive integer", null);
  const systemPrompt = readSystemPrompt(dataset, base);
  if (path && !existsSync(resolve(base, path))) dataset.problems.add(dataset.at("path"), `no such file: ${resolve(base, path)}`);
  if (path === undefined || tokenizer === undefined || outputLen === undefined || systemPrompt === undefined) return undefined;
  return { path: path === null ? null : resolve(base, path), tokenizer: isFile ? resolve(base, tokenizer) : tokenizer, outputLen, systemPrompt };
}

function readSystemPrompt(dataset: FieldReader, base: string): DatasetFields["systemPrompt"] | undefined {
  const section = dataset.section("systemPrompt", false);
  if (!section) return dataset.has("systemPrompt") ? undefined : { enabled: false, path: null };
  section.known(SYSTEM_PROMPT_FIELDS);
  const enabled = section.boolean("enabled", false);
  const rawPath = section.optionalText("path");
  if (enabled === undefined || rawPath === undefined) return undefined;
  const path = rawPath === null ? null : resolve(base, rawPath);
  if (enabled && path === null) {
    section.problems.add(section.at("path"), "is required when systemPrompt.enabled is true (a text file)");
    return undefined;
  }
  if (enabled && path !== null && !existsSync(path)) {
    section.problems.add(section.at("path"), `no such file: ${path}`);
    return undefined;
  }
  return { enabled, path };
}

interface SweepFields {
  /** The legacy summary of the sweep's settings (filled in from the first point's settings). */
  grid: GridPoint[] | null;
  listed: SettingLayer[] | null;
  layer: SettingLayer;
  axes: string[];
  search: ResolvedSearch | null;
  metricPercentiles: number[];
}

const POINT_FIELDS = [...SETTING_FIELDS, ...Object.keys(ALIAS_FIELDS), "rampUpS"];

function readSweep(top: FieldReader, base: string): SweepFields | undefined {
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
