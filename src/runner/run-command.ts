import { existsSync } from "node:fs";
import { hostname } from "node:os";
import pc from "picocolors";
import { assertWritableDir, defaultResultDir, ensureDir } from "../archive/result-files.ts";
import { uploadFolder, UPLOAD_FAILED_EXIT_CODE, type S3Location } from "../archive/s3-upload.ts";
import { describeApiKey } from "../common/api-key.ts";
import { Interrupt } from "../common/interrupt.ts";
import type { RunOptions } from "../config/run-options.ts";
import { describeSkipped } from "../dataset/skipped.ts";
import { formatSummary } from "../report/console-summary.ts";
import { formatRepeats } from "../report/repeat-console.ts";
import { formatThresholds } from "../report/thresholds.ts";
import { writeRunReportQuietly } from "../report/write-report.ts";
import { VERSION } from "../version.ts";
import type { PointResult } from "./point.ts";
import type { RepeatedRuns } from "./repeat-runs.ts";
import { recordRunInHistory } from "./run-history.ts";
import { measurePoint, pointLabels, Targets, workloadOf, type MeasuredPoint, type PreparedPoint } from "./settings-point.ts";
import { LATE_START_EXIT_CODE, LateStart, ShardRefused, ShardSession } from "./shard-session.ts";
import { resolveModel } from "./model-discovery.ts";
import { checkReachable } from "./target.ts";

/**
 * `llmbench run`: one point against a running server, measured as a sweep measures each of its
 * points (settings-point.ts), with no server to launch. Returns the process exit code.
 */
export async function runCommand(input: RunOptions): Promise<number> {
  const options: RunOptions = { ...input, model: await resolveModel(input) };
  const targets = new Targets();
  try {
    // A bad dataset, tokenizer or trace is a usage error before any request (prompts are built here, once).
    return await runAgainst(await targets.prepare(options), options);
  } finally {
    await targets.close();
  }
}

async function runAgainst(prepared: PreparedPoint, options: RunOptions): Promise<number> {
  const dir = options.resultDir ?? defaultResultDir("result", options.backend, options.model || "default-model");
  const exitCode = await measure(prepared, options, dir);
  return options.upload ? uploadResults(dir, options.upload, exitCode) : exitCode;
}

async function measure(prepared: PreparedPoint, options: RunOptions, dir: string): Promise<number> {
  const { target, trace } = prepared;
  // a protocol that names no model in its requests may run without one
  const modelLabel = options.model || "(the server's)";
  const startedAt = new Date();
  assertWritableDir(dir, options.resultDir === null ? "the result folder (--result-dir)" : "--result-dir");
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

  const interrupt = new Interrupt().start();
  let measured: MeasuredPoint;
  const point = shard && options.shard!.index !== 0 ? { ...prepared, settings: { ...options, serverGauges: false } } : prepared;
  try {
    measured = await measurePoint(
      point,
      {
        dir,
        labels: pointLabels(options),
        progress: options.progress,
        interrupt: interrupt.signal,
        context: { backend: options.backend, model: options.model, base_url: options.baseUrl, api_key: describeApiKey(options.apiKeyEnv), llmbench: VERSION, host: hostname(), workload: workloadOf(options), ...shard?.context() },
        ...(shard
          ? {
              beforeStart: async () => {
                shard.begin();
                await shard.barrier(interrupt.signal, (line) => console.error(pc.dim(line)));
              },
              recordTags: { shard: options.shard!.index },
              onFinished: (outcome) => shard.recordOutcome(outcome),
            }
          : {}),
      },
      startedAt,
      options.workers, // more than one: the point's shards in worker processes, merged into dir (runner/point-workers.ts)
    );
    shard?.end(measured.result.interrupted ? "interrupted" : "completed");
  } catch (error) {
    if (shard && error instanceof ShardRefused) {
      shard.end(error.exitReason);
      console.error(pc.red(`llmbench: ${error.message}`));
      return error.exitCode;
    }
    shard?.end("failed");
    throw error;
  } finally {
    interrupt.stop();
  }
  const { result, repeats, savedResult } = measured;
  // the stats in hand rather than read back from requests.jsonl (a worker's shards are merged from their files)
  writeRunReportQuietly(dir, measured.workers === 1 ? result.requests : undefined);

  const rate = `${options.requestRate === Infinity ? "inf" : options.requestRate} requests/s${options.maxConcurrency === null ? "" : ` (at most ${options.maxConcurrency} in flight)`}`;
  const load = trace
    ? `trace ${trace.path} (${trace.requests.length} requests${options.traceFile!.speed !== 1 ? `, ×${options.traceFile!.speed} speed` : ""})`
    : options.requestRate === null ? `${options.numClients} clients` : rate;
  const workers = measured.workers > 1 ? `, ${measured.workers} workers` : "";
  const title = `llmbench run — ${options.backend} ${options.baseUrl}, model ${modelLabel}, ${load}${workers}`;
  console.log(formatSummary(title, result));
  const skipped = describeSkipped(target.sampler.skipped());
  if (skipped) console.log(pc.yellow(`  dataset    ${skipped}`));
  for (const line of formatThresholds(result.thresholds)) console.log(line.includes("FAILED") ? pc.red(line) : line);
  if (savedResult) console.log(pc.dim(`  vLLM-format result in ${savedResult}`));
  if (repeats) console.log(formatRepeats(repeats));
  console.log(pc.dim(`  results in ${dir}`));
  const exitCode = runExitCode(result, repeats, result.interrupted || interrupt.aborted ? interrupt.exitCode : null);
  recordRunInHistory(options, dir, startedAt, result, exitCode);
  return exitCode;
}

function runExitCode(result: PointResult, repeats: RepeatedRuns | null, interruptExitCode: number | null): number {
  if (interruptExitCode !== null) return interruptExitCode;
  const everyRunCompleted = result.summary.completed > 0 && (repeats?.runs.every((run) => run.completed > 0) ?? true);
  if (!everyRunCompleted) return 1;
  return result.thresholds.every((threshold) => threshold.ok) ? 0 : 3;
}

/** The folder goes to S3 whatever the run's outcome (a late or failed shard's shard.json says why); a failed upload is exit code 5. */
async function uploadResults(dir: string, location: S3Location, exitCode: number): Promise<number> {
  if (!existsSync(dir)) return exitCode;
  try {
    const uploaded = await uploadFolder(dir, location);
    console.log(pc.dim(`  uploaded ${uploaded.files} files (${(uploaded.bytes / 1e6).toFixed(1)} MB) to ${uploaded.url}`));
    return exitCode;
  } catch (error) {
    console.error(pc.red(`llmbench: --upload: ${(error as Error).message} (the results are kept in ${dir})`));
    return exitCode === 0 ? UPLOAD_FAILED_EXIT_CODE : exitCode;
  }
}

/** The shard's session when this run is one shard of a point: its plan is the workload every shard must share. */
function shardSessionOf(dir: string, options: RunOptions): ShardSession | null {
  if (!options.shard) return null;
  return new ShardSession(dir, {
    shard: options.shard,
    startAtMs: options.startAtMs,
    startToleranceMs: options.startToleranceMs,
    rendezvous: options.rendezvous ? { address: options.rendezvous, timeoutMs: options.rendezvousTimeoutMs } : null,
    plan: {
      backend: options.backend,
      model: options.model,
      request_rate: options.requestRate === Infinity ? "inf" : options.requestRate,
      num_clients: options.requestRate === null ? options.numClients : null,
      request_timeout_s: options.requestTimeoutS,
      drain_timeout_s: options.drainTimeoutS,
      goodput: options.goodput,
      ...workloadOf(options),
    },
    load: options,
  });
}

