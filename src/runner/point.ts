import { join } from "node:path";
import { ensureDir, writeSummaryFiles } from "../archive/result-files.ts";
import { summarize, type Summary } from "../metrics/summarize.ts";
import { JsonlWriter } from "../records/jsonl-writer.ts";
import type { RequestRecord } from "../records/record.ts";
import { ProgressLine } from "../report/progress.ts";
import { summaryRow, type PointLabels, type Row } from "../report/seed-columns.ts";
import { runPoint } from "./run-point.ts";
import type { Target } from "./target.ts";

/** How one point loads the server: shared by `run` (one point) and `sweep` (many). */
export interface PointSpec {
  numClients: number;
  rampUpTimeS: number;
  stopTimeS: number | null;
  numRequests: number | null;
  drainTimeoutS: number;
  requestTimeoutS: number;
  seed: number;
}

export interface PointResult {
  summary: Summary;
  /** The summary as one row of the seed's CSV columns (then llmbench's). */
  row: Row;
  records: RequestRecord[];
  interrupted: boolean;
}

export interface PointRunOptions {
  /** Folder that receives requests.jsonl (as requests finish), summary.json and summary.csv. */
  dir: string;
  labels: PointLabels;
  progress: boolean;
  /** Aborting it (Ctrl-C) cancels the requests in flight; they are recorded, and so is the summary. */
  interrupt?: AbortSignal;
  /** Extra keys for summary.json (backend, model, ...). */
  context?: Record<string, unknown>;
}

/** Runs one point against a ready target and writes its files. */
export async function executePoint(target: Target, spec: PointSpec, options: PointRunOptions): Promise<PointResult> {
  // Tokenize each user's first prompts now, so that tokenizing never stalls the event loop mid-run.
  const perUser = spec.numRequests === null ? 32 : Math.ceil(spec.numRequests / spec.numClients) + 1;
  target.pool.warm(spec.seed, spec.numClients, perUser);

  ensureDir(options.dir);
  const requestsFile = new JsonlWriter(join(options.dir, "requests.jsonl"), { truncate: true });
  const progress = new ProgressLine(`${spec.numClients} clients`, spec.numRequests, options.progress);
  progress.start();
  let records: RequestRecord[];
  try {
    records = await runPoint({
      backend: target.backend,
      pool: target.pool,
      seed: spec.seed,
      plan: {
        clients: spec.numClients,
        rampUpS: spec.rampUpTimeS,
        stopTimeS: spec.stopTimeS,
        maxRequests: spec.numRequests,
        drainTimeoutS: spec.drainTimeoutS,
      },
      requestTimeoutS: spec.requestTimeoutS,
      interrupt: options.interrupt,
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
  }

  const interrupted = options.interrupt?.aborted ?? false;
  const summary = summarize(records);
  const row = summaryRow(summary, options.labels);
  writeSummaryFiles(
    options.dir,
    { ...row, requests: summary.requests, failures: summary.failures, ...options.context, interrupted },
    [row],
  );
  return { summary, row, records, interrupted };
}
