import { join } from "node:path";
import { ensureDir, writeSummaryFiles } from "../archive/result-files.ts";
import { goodput, type Goodput, type GoodputSlo } from "../metrics/goodput.ts";
import { statsByTurn, type TurnStats } from "../metrics/per-turn.ts";
import { summarize, type Summary } from "../metrics/summarize.ts";
import { JsonlWriter } from "../records/jsonl-writer.ts";
import { ProgressLine } from "../report/progress.ts";
import { summaryRow, type PointLabels, type Row } from "../report/seed-columns.ts";
import { GaugeSampler, type GaugeReport } from "./gauge-sampler.ts";
import { runPoint, type LoadShape } from "./run-point.ts";
import type { Target } from "./target.ts";

/** How one point loads the server: shared by `run` (one point) and `sweep` (many). */
export interface PointSpec extends LoadShape {
  /** Requests sent before measuring, with their own prompts, and not counted. */
  warmupRequests: number;
  goodput: GoodputSlo | null;
  /** Sample the server's load gauges (its Prometheus /metrics) while the point runs. */
  serverGauges: boolean;
}

export interface PointResult {
  summary: Summary;
  /** The same statistics over requests sent after the ramp-up and before the stop: no ramp-up, no drain tail. */
  steady: Summary;
  perTurn: TurnStats[];
  goodput: Goodput | null;
  gauges: GaugeReport;
  /** The summary as one row of the seed's CSV columns (then llmbench's). */
  row: Row;
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

const WARMUP_SEED_OFFSET = 7919;

/** Runs one point against a ready target and writes its files. */
export async function executePoint(target: Target, spec: PointSpec, options: PointRunOptions): Promise<PointResult> {
  // Draw and tokenize each user's first prompts now: bad data shows before any request, and
  // tokenizing never stalls the event loop mid-run.
  if (spec.trace) {
    // a trace brings its prompts, built when it was loaded
  } else if (spec.requestRate === null) {
    const perUser = spec.numRequests === null ? 32 : Math.ceil(spec.numRequests / spec.numClients) + 1;
    target.sampler.warm(spec.seed, Math.min(spec.numClients, 4096), Math.min(perUser, 4096));
  } else {
    target.sampler.warmRequests(spec.seed, Math.min(spec.numRequests ?? 4096, 16_384));
  }

  if (spec.warmupRequests > 0) await warmUp(target, spec, options.interrupt);

  ensureDir(options.dir);
  const requestsFile = new JsonlWriter(join(options.dir, "requests.jsonl"), { truncate: true });
  const label = spec.trace ? `trace, ${spec.trace.requests.length} requests` : spec.requestRate === null ? `${spec.numClients} client${spec.numClients === 1 ? "" : "s"}` : `${spec.requestRate} req/s`;
  const progress = new ProgressLine(label, spec.numRequests ?? spec.trace?.requests.length ?? null, options.progress);
  progress.start();
  const sampler = spec.serverGauges ? new GaugeSampler(target.backend) : null;
  sampler?.start();
  let outcome;
  try {
    outcome = await runPoint({
      backend: target.backend,
      sampler: target.sampler,
      shape: spec,
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
  const gauges = sampler ? await sampler.stop() : { status: "off", gauges: {} };

  const { requests, timing } = outcome;
  const interrupted = options.interrupt?.aborted ?? false;
  const summary = summarize(requests);
  const steadyFrom = performance.timeOrigin + timing.rampedUpAt;
  const steadyTo = performance.timeOrigin + timing.stoppedAt;
  const steady = summarize(requests.filter((r) => r.sendMs >= steadyFrom && r.sendMs < steadyTo));
  const perTurn = statsByTurn(requests);
  const good = spec.goodput === null ? null : goodput(requests, spec.goodput, summary.duration_s);
  const row = summaryRow(summary, options.labels, good, gauges.gauges);
  writeSummaryFiles(
    options.dir,
    {
      ...row,
      requests: summary.requests,
      failures: summary.failures,
      queue_wait_ms: summary.queue_wait,
      server_gauges: gauges,
      ...(spec.goodput ? { goodput_slo_ms: spec.goodput } : {}),
      ...(target.systemPromptTokens !== null ? { system_prompt_tokens: target.systemPromptTokens } : {}),
      steady: summaryRow(steady, options.labels, null),
      ...(spec.numTurns > 1 ? { per_turn: perTurn } : {}),
      dataset: { skipped: target.sampler.skipped() },
      ...options.context,
      interrupted,
    },
    [row],
  );
  return { summary, steady, perTurn, goodput: good, gauges, row, interrupted };
}

/** A few unmeasured requests first (JIT, CUDA graphs, connections), with prompts of their own. */
async function warmUp(target: Target, spec: PointSpec, interrupt?: AbortSignal): Promise<void> {
  const clients = Math.max(1, Math.min(spec.warmupRequests, spec.requestRate === null ? spec.numClients : spec.maxConcurrency ?? 8));
  await runPoint({
    backend: target.backend,
    sampler: target.sampler,
    shape: {
      ...spec,
      numClients: clients,
      rampUpTimeS: 0,
      requestRate: null,
      stopTimeS: null,
      numRequests: spec.warmupRequests,
      numTurns: 1,
      thinkTimeS: 0,
      seed: spec.seed + WARMUP_SEED_OFFSET,
    },
    interrupt,
    onRecord: () => {},
  });
}
