/**
 * One point from its settings, the same way for `run` and for every point of a sweep: the target
 * (tokenizer, dataset, backend) and trace it needs, the point itself with its warm-up, the repeats
 * of --num-runs, and vLLM's result JSON of --save-result.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../archive/result-files.ts";
import type { RunSettings } from "../config/run-settings.ts";
import { loadTrace, type LoadedTrace } from "../dataset/trace.ts";
import type { PointLabels, Row } from "../report/seed-columns.ts";
import { vllmResult, vllmResultFilename } from "../report/vllm-result.ts";
import { executePoint, type PointResult, type PointRunOptions, type PointSpec } from "./point.ts";
import { executePointInWorkers, workersFor } from "./point-workers.ts";
import { repeatRuns, type RepeatedRuns } from "./repeat-runs.ts";
import { loadTarget, type Target } from "./target.ts";

/** A point ready to run: its target and (for --trace) its loaded trace. */
export interface PreparedPoint {
  settings: RunSettings;
  target: Target;
  trace: LoadedTrace | null;
}

/** What of a point's settings makes its target: points that agree on all of it share one (one tokenizer, one dataset, one backend). */
function targetKey(settings: RunSettings): string {
  const { backend, baseUrl, model, apiKeyEnv, insecure, pplProto, thinkTags, dataset, datasetPath, tokenizer, outputLen, systemPromptPath, minInputLen, maxInputLen, maxTotalLen, synthetic, extraBody, headers, seed } = settings;
  return JSON.stringify([backend, baseUrl, model, apiKeyEnv, insecure, pplProto, thinkTags, dataset, datasetPath, tokenizer, outputLen, systemPromptPath, minInputLen, maxInputLen, maxTotalLen, synthetic, extraBody, headers, dataset === "synthetic" ? seed : null]);
}

/** Targets by what makes them, loaded once each; close() closes every backend (a gRPC channel left open keeps the process alive). */
export class Targets {
  private readonly loaded = new Map<string, Promise<Target>>();
  private readonly ready: Target[] = [];

  /** Loads what the point needs; a bad file or tokenizer is a UsageError, before any request. */
  async prepare(settings: RunSettings): Promise<PreparedPoint> {
    const key = targetKey(settings);
    let target = this.loaded.get(key);
    if (!target) {
      target = loadTarget(settings);
      this.loaded.set(key, target);
      target.then((loaded) => this.ready.push(loaded), () => {});
    }
    const loaded = await target;
    const { traceFile } = settings;
    const trace = traceFile ? loadTrace(traceFile.path, loaded.tokenizer, { speed: traceFile.speed, outputLen: settings.outputLen, seed: settings.seed }) : null;
    return { settings, target: loaded, trace };
  }

  /** Dataset entries skipped (too short, too long, …) by every target so far, by reason. */
  skipped(): Record<string, number> {
    const total: Record<string, number> = {};
    for (const target of this.ready) for (const [reason, count] of Object.entries(target.sampler.skipped())) total[reason] = (total[reason] ?? 0) + count;
    return total;
  }

  async close(): Promise<void> {
    for (const target of this.loaded.values()) (await target.catch(() => null))?.backend.close?.();
    this.loaded.clear();
    this.ready.length = 0;
  }
}

/** The first columns of the point's CSV row: `run`'s and a sweep point's alike. */
export function pointLabels(settings: RunSettings): PointLabels {
  return {
    modelSize: settings.modelSize,
    tp: settings.tp,
    numClients: settings.requestRate === null && settings.traceFile === null ? settings.numClients : "",
    mode: settings.mode,
    requestRate: settings.requestRate,
  };
}

/** The point's input and output lengths as set, as columns of its row: synthetic prompts' length, a fixed output length. */
export function pointColumns(settings: RunSettings): Row {
  return { isl: settings.synthetic?.inputLen ?? null, osl: settings.outputLen ?? null };
}

export interface MeasuredPoint {
  result: PointResult;
  repeats: RepeatedRuns | null;
  /** The vLLM-format result file, when --save-result asked for one. */
  savedResult: string | null;
  /** How many worker processes ran the point (1: this one). */
  workers: number;
}

/**
 * Runs the point (and its repeats) into `run.dir`, as shards in `workers` processes where it has the
 * users for them (repeats run in this process). `runOptions.interrupt` stops it; `startedAt` dates vLLM's result file.
 */
export async function measurePoint(prepared: PreparedPoint, run: PointRunOptions, startedAt: Date, workers = 1): Promise<MeasuredPoint> {
  const { settings } = prepared;
  const spec: PointSpec = { ...settings, trace: prepared.trace };
  const count = workersFor(spec, workers);
  const result = count > 1 ? await executePointInWorkers(count, settings, spec, run) : await executePoint(prepared.target, spec, run);
  let repeats: RepeatedRuns | null = null;
  if (settings.numRuns > 1) {
    const interrupt = run.interrupt ?? new AbortController().signal;
    repeats = await repeatRuns(settings, run.dir, result, (dir) => runFresh(prepared, spec, { ...run, dir }), interrupt);
  }
  return { result, repeats, savedResult: settings.saveResult ? saveVllmResult(settings, result, run.dir, startedAt) : null, workers: count };
}

/** A repeated run with a target of its own: new connections, the same prompts (same seed and dataset). */
async function runFresh(prepared: PreparedPoint, spec: PointSpec, run: PointRunOptions): Promise<PointResult> {
  const target = await loadTarget(prepared.settings);
  try {
    return await executePoint(target, spec, run);
  } finally {
    target.backend.close?.();
  }
}

/** --save-result: vllm bench serve's result JSON, in --result-dir (a sweep: the point's folder). */
function saveVllmResult(settings: RunSettings, result: PointResult, dir: string, startedAt: Date): string {
  const save = settings.saveResult!;
  const input = {
    summary: result.summary,
    requests: result.requests,
    goodput: result.goodput,
    backend: settings.backend,
    model: settings.model,
    tokenizer: settings.tokenizer,
    numPrompts: settings.numRequests,
    requestRate: settings.requestRate,
    burstiness: settings.burstiness,
    maxConcurrency: settings.maxConcurrency,
    metrics: save.metrics,
    percentiles: save.percentiles,
    detailed: save.detailed,
    date: startedAt,
  };
  const file = join(save.dir ?? dir, save.filename ?? vllmResultFilename(input, settings.numClients));
  writeFileAtomic(file, JSON.stringify(vllmResult(input), null, 2) + "\n");
  return file;
}

/** What the point asked of the server, for `llmbench report` to check that compared runs match. */
export function workloadOf(settings: RunSettings): Record<string, unknown> {
  return {
    dataset: settings.dataset === "synthetic" ? "synthetic" : settings.datasetPath,
    synthetic: settings.synthetic,
    tokenizer: settings.tokenizer,
    output_len: settings.outputLen ?? null,
    system_prompt: settings.systemPromptPath,
    min_input_len: settings.minInputLen,
    max_input_len: settings.maxInputLen,
    max_total_len: settings.maxTotalLen,
    num_requests: settings.numRequests,
    stop_time_s: settings.stopTimeS,
    ramp_up_s: settings.requestRate === null ? settings.rampUpTimeS : null,
    burstiness: settings.requestRate === null ? null : settings.burstiness,
    max_concurrency: settings.maxConcurrency,
    turns: settings.numTurns,
    // Left unset (null) at their defaults, so that runs from before these settings compare.
    think_time_s: settings.thinkTimeS || null,
    seed: settings.seed,
    warmup_requests: settings.warmupRequests || null,
  };
}
