import pc from "picocolors";
import { assertWritableDir, defaultResultDir } from "../archive/result-files.ts";
import { describeApiKey } from "../config/backend-flags.ts";
import type { RunOptions } from "../config/run-options.ts";
import { describeSkipped } from "../dataset/skipped.ts";
import { formatSummary } from "../report/console-summary.ts";
import { StopReason } from "../workload/closed-loop.ts";
import { executePoint, type PointResult } from "./point.ts";
import { formatRepeats } from "../report/repeat-console.ts";
import { repeatRuns, type RepeatedRuns } from "./repeat-runs.ts";
import { checkReachable, loadTarget, type Target } from "./target.ts";
import { loadTrace } from "../dataset/trace.ts";

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

async function runAgainst(target: Target, options: RunOptions): Promise<number> {
  const dir = options.resultDir ?? defaultResultDir("result", options.backend, options.model);
  assertWritableDir(dir, options.resultDir === null ? "the result folder (--result-dir)" : "--result-dir");
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
  const runOnce = (runTarget: Target, runDir: string) =>
    executePoint(runTarget, options, {
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
      context: { backend: options.backend, model: options.model, base_url: options.baseUrl, api_key: describeApiKey(options.apiKeyEnv) },
    });
  try {
    result = await runOnce(target, dir);
    if (options.numRuns > 1) repeats = await repeatRuns(options, dir, result, (runDir) => runFresh(options, runDir, runOnce), interrupt.signal);
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }

  const load = options.trace ? `trace ${options.trace.path} (${options.trace.requests.length} requests${options.traceFile!.speed !== 1 ? `, ×${options.traceFile!.speed} speed` : ""})` : options.requestRate === null ? `${options.numClients} clients` : `${options.requestRate} requests/s`;
  const title = `llmbench run — ${options.backend} ${options.baseUrl}, model ${options.model}, ${load}`;
  console.log(formatSummary(title, result));
  const skipped = describeSkipped(target.sampler.skipped());
  if (skipped) console.log(pc.yellow(`  dataset    ${skipped}`));
  if (repeats) console.log(formatRepeats(repeats));
  console.log(pc.dim(`  results in ${dir}`));
  if (result.interrupted || interrupt.signal.aborted) return interruptExitCode;
  const everyRunCompleted = result.summary.completed > 0 && (repeats?.runs.every((run) => run.completed > 0) ?? true);
  return everyRunCompleted ? 0 : 1;
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
