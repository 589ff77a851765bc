import { hostname } from "node:os";
import { join } from "node:path";
import pc from "picocolors";
import { assertWritableDir, defaultResultDir, ensureDir, writeFileAtomic } from "../archive/result-files.ts";
import { describeApiKey } from "../common/api-key.ts";
import type { RunOptions } from "../config/run-options.ts";
import { describeSkipped } from "../dataset/skipped.ts";
import { formatSummary } from "../report/console-summary.ts";
import { writeRunReportQuietly } from "../report/write-report.ts";
import { VERSION } from "../version.ts";
import { formatThresholds } from "../report/thresholds.ts";
import { vllmResult, vllmResultFilename } from "../report/vllm-result.ts";
import { StopReason } from "../common/stop-reason.ts";
import { formatRepeats } from "../report/repeat-console.ts";
import { loadTrace, type LoadedTrace } from "../dataset/trace.ts";
import { executePoint, type PointResult } from "./point.ts";
import { repeatRuns, type RepeatedRuns } from "./repeat-runs.ts";
import { LATE_START_EXIT_CODE, LateStart, ShardSession } from "./shard-session.ts";
import { checkReachable, loadTarget, type Target } from "./target.ts";
import { runWorkers } from "./workers.ts";

/** `llmbench run`: one point against a running server. Returns the process exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  const target = await loadTarget(options);
  try {
    const { traceFile } = options;
    // A bad trace is a usage error before any request (its prompts are built here, once).
    const trace = traceFile ? loadTrace(traceFile.path, target.tokenizer, { speed: traceFile.speed, outputLen: options.outputLen, seed: options.seed }) : null;
    return await runAgainst(target, { ...options, trace });
  } finally {
    target.backend.close?.();
  }
}

async function runAgainst(target: Target, options: RunOptions & { trace: LoadedTrace | null }): Promise<number> {
  const dir = options.resultDir ?? defaultResultDir("result", options.backend, options.model);
  const startedAt = new Date();
  assertWritableDir(dir, options.resultDir === null ? "the result folder (--result-dir)" : "--result-dir");
  if (options.workers > 1) {
    await checkReachable(target.backend, options);
    const load = options.requestRate === null ? `${options.numClients} clients` : `${options.requestRate} requests/s`;
    return runWorkers(options.workers, dir, process.argv.slice(process.argv.indexOf("run")), `llmbench run — ${options.backend} ${options.baseUrl}, model ${options.model}, ${load}`);
  }
  const shard = shardSessionOf(dir, options);
  if (shard) {
    try {
      shard.checkNotLate();
    } catch (error) {
      if (!(error instanceof LateStart)) throw error;
      ensureDir(dir);
      shard.end("late");
      console.error(pc.red(`llmbench: ${error.message}`));
      return LATE_START_EXIT_CODE;
    }
  }
  await checkReachable(target.backend, options);

  const interrupt = new AbortController();
  let interruptExitCode = 130;
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(interruptExitCode);
    interruptExitCode = signal === "SIGTERM" ? 143 : 130;
    interrupt.abort(new StopReason(signal === "SIGTERM" ? "interrupted (SIGTERM)" : "interrupted (Ctrl-C)"));
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  let result;
  let repeats: RepeatedRuns | null = null;
  const pointOptions = shard && options.shard!.index !== 0 ? { ...options, serverGauges: false } : options;
  const runOnce = (runTarget: Target, runDir: string) =>
    executePoint(runTarget, pointOptions, {
      dir: runDir,
      labels: {
        modelSize: options.modelSize,
        tp: options.tp,
        numClients: options.requestRate === null && !options.trace ? options.numClients : "",
        mode: options.mode,
        requestRate: options.requestRate,
      },
      progress: options.progress,
      interrupt: interrupt.signal,
      context: { backend: options.backend, model: options.model, base_url: options.baseUrl, api_key: describeApiKey(options.apiKeyEnv), llmbench: VERSION, host: hostname(), workload: workloadOfOptions(options), ...shard?.context() },
      ...(shard
        ? {
            beforeStart: async () => {
              shard.begin();
              await shard.barrier(interrupt.signal);
            },
            recordTags: { shard: options.shard!.index },
            onFinished: (outcome) => shard.recordOutcome(outcome),
          }
        : {}),
    });
  try {
    result = await runOnce(target, dir);
    shard?.end(result.interrupted ? "interrupted" : "completed");
    if (options.numRuns > 1) repeats = await repeatRuns(options, dir, result, (runDir) => runFresh(options, runDir, runOnce), interrupt.signal);
  } catch (error) {
    if (shard && error instanceof LateStart) {
      shard.end("late");
      console.error(pc.red(`llmbench: ${error.message}`));
      return LATE_START_EXIT_CODE;
    }
    shard?.end("failed");
    throw error;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
  writeRunReportQuietly(dir);

  const rate = `${options.requestRate === Infinity ? "inf" : options.requestRate} requests/s${options.maxConcurrency === null ? "" : ` (at most ${options.maxConcurrency} in flight)`}`;
  const load = options.trace
    ? `trace ${options.trace.path} (${options.trace.requests.length} requests${options.traceFile!.speed !== 1 ? `, ×${options.traceFile!.speed} speed` : ""})`
    : options.requestRate === null ? `${options.numClients} clients` : rate;
  const title = `llmbench run — ${options.backend} ${options.baseUrl}, model ${options.model}, ${load}`;
  console.log(formatSummary(title, result));
  const skipped = describeSkipped(target.sampler.skipped());
  if (skipped) console.log(pc.yellow(`  dataset    ${skipped}`));
  for (const line of formatThresholds(result.thresholds)) console.log(line.includes("FAILED") ? pc.red(line) : line);
  if (options.saveResult) {
    const save = options.saveResult;
    const input = {
      summary: result.summary,
      requests: result.requests,
      goodput: result.goodput,
      backend: options.backend,
      model: options.model,
      tokenizer: options.tokenizer,
      numPrompts: options.numRequests,
      requestRate: options.requestRate,
      burstiness: options.burstiness,
      maxConcurrency: options.maxConcurrency,
      metrics: save.metrics,
      percentiles: save.percentiles,
      detailed: save.detailed,
      date: startedAt,
    };
    const file = join(save.dir ?? dir, save.filename ?? vllmResultFilename(input, options.numClients));
    writeFileAtomic(file, JSON.stringify(vllmResult(input), null, 2) + "\n");
    console.log(pc.dim(`  vLLM-format result in ${file}`));
  }
  if (repeats) console.log(formatRepeats(repeats));
  console.log(pc.dim(`  results in ${dir}`));
  if (result.interrupted || interrupt.signal.aborted) return interruptExitCode;
  const everyRunCompleted = result.summary.completed > 0 && (repeats?.runs.every((run) => run.completed > 0) ?? true);
  if (!everyRunCompleted) return 1;
  return result.thresholds.every((threshold) => threshold.ok) ? 0 : 3;
}

/** The shard's session when this run is one shard of a point: its plan is the workload every shard must share. */
function shardSessionOf(dir: string, options: RunOptions): ShardSession | null {
  if (!options.shard) return null;
  return new ShardSession(dir, {
    shard: options.shard,
    startAtMs: options.startAtMs,
    startToleranceMs: options.startToleranceMs,
    plan: {
      backend: options.backend,
      model: options.model,
      request_rate: options.requestRate === Infinity ? "inf" : options.requestRate,
      num_clients: options.requestRate === null ? options.numClients : null,
      request_timeout_s: options.requestTimeoutS,
      drain_timeout_s: options.drainTimeoutS,
      goodput: options.goodput,
      ...workloadOfOptions(options),
    },
    load: options,
  });
}

/** What this run asked of the server, for `llmbench report` to check that compared runs match. */
function workloadOfOptions(options: RunOptions): Record<string, unknown> {
  return {
    dataset: options.dataset === "synthetic" ? "synthetic" : options.datasetPath,
    synthetic: options.synthetic,
    tokenizer: options.tokenizer,
    output_len: options.outputLen ?? null,
    system_prompt: options.systemPromptPath,
    min_input_len: options.minInputLen,
    max_input_len: options.maxInputLen,
    max_total_len: options.maxTotalLen,
    num_requests: options.numRequests,
    stop_time_s: options.stopTimeS,
    ramp_up_s: options.requestRate === null ? options.rampUpTimeS : null,
    burstiness: options.requestRate === null ? null : options.burstiness,
    max_concurrency: options.maxConcurrency,
    turns: options.numTurns,
    // Left unset (null) at their defaults, as a sweep, which has neither, leaves them.
    think_time_s: options.thinkTimeS || null,
    seed: options.seed,
    warmup_requests: options.warmupRequests || null,
  };
}

/** A repeated run with a target of its own: new connections, the same prompts (same seed and dataset). */
async function runFresh(options: RunOptions, dir: string, runOnce: (target: Target, dir: string) => Promise<PointResult>): Promise<PointResult> {
  const target = await loadTarget(options);
  try {
    return await runOnce(target, dir);
  } finally {
    target.backend.close?.();
  }
}
