import { join } from "node:path";
import pc from "picocolors";
import { createBackend } from "../backends/registry.ts";
import type { Backend } from "../backends/backend.ts";
import type { RunOptions } from "../config/run-options.ts";
import { UsageError } from "../dataset/errors.ts";
import { PromptPool } from "../dataset/prompt-pool.ts";
import { loadShareGpt } from "../dataset/sharegpt.ts";
import { loadTokenizer } from "../dataset/tokenizer.ts";
import { summarize } from "../metrics/summarize.ts";
import { JsonlWriter } from "../records/jsonl-writer.ts";
import { formatSummary } from "../report/console-summary.ts";
import { ProgressLine } from "../report/progress.ts";
import { summaryRow } from "../report/seed-columns.ts";
import { defaultResultDir, ensureDir, writeSummaryFiles } from "../archive/result-files.ts";
import { StopReason } from "../workload/closed-loop.ts";
import { runPoint } from "./run-point.ts";
import { describeNetworkError } from "../backends/transport/http.ts";

const HEALTH_TIMEOUT_MS = 10_000;

/** `llmbench run`: one point against a running server. Returns the process exit code. */
export async function runCommand(options: RunOptions): Promise<number> {
  const tokenizer = await loadTokenizer(options.tokenizer);
  const conversations = await loadShareGpt(options.datasetPath);
  const pool = new PromptPool(conversations, tokenizer, options.outputLen);

  const backend = createBackend(options.backend, {
    baseUrl: options.baseUrl,
    model: options.model,
    apiKey: process.env[options.apiKeyEnv] || null,
    insecure: options.insecure,
  });
  await checkReachable(backend, options.baseUrl);

  // Tokenize each user's first prompts now, so that tokenizing never stalls the event loop mid-run.
  const perUser = options.numRequests === null ? 32 : Math.ceil(options.numRequests / options.numClients) + 1;
  pool.warm(options.seed, options.numClients, perUser);

  const dir = options.resultDir ?? defaultResultDir("result", options.backend, options.model);
  ensureDir(dir);
  const requestsFile = new JsonlWriter(join(dir, "requests.jsonl"), { truncate: true });

  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    interrupt.abort(new StopReason("interrupted (Ctrl-C)"));
  };
  process.on("SIGINT", onSigint);
  process.on("SIGTERM", onSigint);

  const progress = new ProgressLine(`${options.numClients} clients`, options.numRequests, options.progress);
  progress.start();
  let records;
  try {
    records = await runPoint({
      backend,
      pool,
      seed: options.seed,
      plan: {
        clients: options.numClients,
        rampUpS: options.rampUpTimeS,
        stopTimeS: options.stopTimeS,
        maxRequests: options.numRequests,
        drainTimeoutS: options.drainTimeoutS,
      },
      requestTimeoutS: options.requestTimeoutS,
      interrupt: interrupt.signal,
      onSent: () => progress.sent++,
      onRecord: (record) => {
        if (record.status === "ok") progress.completed++;
        else progress.failed++;
        requestsFile.write(record);
      },
    });
  } finally {
    progress.stop();
    requestsFile.close();
    process.off("SIGINT", onSigint);
    process.off("SIGTERM", onSigint);
  }

  const summary = summarize(records);
  const row = summaryRow(summary, {
    modelSize: options.modelSize,
    tp: options.tp,
    numClients: options.numClients,
    mode: options.mode,
  });
  writeSummaryFiles(
    dir,
    { ...row, failures: summary.failures, requests: summary.requests, backend: options.backend, model: options.model, interrupted: interrupt.signal.aborted },
    [row],
  );
  const title = `llmbench run — ${options.backend} ${options.baseUrl}, model ${options.model}, ${options.numClients} clients`;
  console.log(formatSummary(title, summary));
  console.log(pc.dim(`  results in ${dir}`));
  if (interrupt.signal.aborted) return 130;
  return summary.completed > 0 ? 0 : 1;
}

async function checkReachable(backend: Backend, baseUrl: string): Promise<void> {
  try {
    await backend.checkHealth(AbortSignal.timeout(HEALTH_TIMEOUT_MS));
  } catch (error) {
    const reason = (error as Error)?.name === "TimeoutError" ? `no answer within ${HEALTH_TIMEOUT_MS / 1000} s` : describeNetworkError(error);
    throw new UsageError(`--base-url ${baseUrl}: the ${backend.name} server is not reachable (${reason})`);
  }
}
