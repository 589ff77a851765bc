import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { llmbenchCommand } from "../common/self-command.ts";
import { parseS3Url, type S3Location } from "../archive/s3-client.ts";
import { UsageError } from "../common/usage-error.ts";
import { TOKENIZER_NAMES } from "../dataset/tokenizer.ts";
import { DEFAULT_READY_TIMEOUT_S, DEFAULT_STOP_GRACE_S, type LaunchInput, type ResolvedBenchConfig, type ResolvedLaunch, type SweepPoint } from "./bench-config.ts";
import { emptyLayer, mergeLayers, type SettingLayer } from "./config-settings.ts";
import { describeValue, FieldProblems, FieldReader, isPlainObject, join, knob } from "./field-checks.ts";
import { parseExtraBody, parseHeaders } from "./knob-flags.ts";
import { searchRampUpS } from "./search-config.ts";
import { commandLineSettings } from "./sweep-flags.ts";
import { resolvePoints } from "./sweep-points.ts";
import { readSweep } from "./sweep-section.ts";

const TOP_FIELDS = ["backend", "model", "servers", "dataset", "sweep", "output"] as const;
const MODEL_FIELDS = ["tag", "sizeB", "tp", "mode", "path", "tokenizerPath", "name"] as const;
const SERVER_FIELDS = ["url", "launch", "apiKeyEnv", "insecure", "extraBody", "headers"] as const;
const LAUNCH_FIELDS = ["command", "env", "cwd", "readyTimeoutS", "stopGraceS"] as const;
const DATASET_FIELDS = ["path", "tokenizer", "outputLen", "systemPrompt"] as const;
const SYSTEM_PROMPT_FIELDS = ["enabled", "path"] as const;
const OUTPUT_FIELDS = ["dir", "upload"] as const;

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
  const upload = readUpload(problems, output?.optionalText("upload") ?? null);

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
    upload,
  };
  const launch = server.launch && resolveLaunch(problems, server.launch, input, base);
  if (problems.list.length > 0 || launch === undefined) throw fail();
  return { ...input, launch, settings: { points: resolved.settings, layer: mergeLayers(layer, commandLine) } };
}

/** output.upload: s3://bucket/prefix (checked for its form here; the credentials when the sweep starts). */
function readUpload(problems: FieldProblems, text: string | null): S3Location | null {
  if (text === null) return null;
  const location = parseS3Url(text);
  if (typeof location === "string") {
    problems.add("output.upload", location);
    return null;
  }
  return location;
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

