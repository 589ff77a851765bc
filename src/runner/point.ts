import { join } from "node:path";
import { ensureDir, writeSummaryFiles } from "../archive/result-files.ts";
import type { Goodput } from "../metrics/goodput.ts";
import type { TurnStats } from "../metrics/per-turn.ts";
import type { RequestStats } from "../metrics/request-stats.ts";
import type { Summary } from "../metrics/summarize.ts";
import { checkThresholds, type ThresholdResult } from "../report/thresholds.ts";
import type { PointSettings } from "../config/run-settings.ts";
import { collectGarbage } from "../common/collect-garbage.ts";
import { JsonlWriter } from "../records/jsonl-writer.ts";
import { LiveProgress } from "../report/progress.ts";
import type { PointLabels, Row } from "../report/seed-columns.ts";
import { shareOf } from "../workload/shards.ts";
import type { LoopTiming } from "../workload/timing.ts";
import { summarizePoint, summaryObject, type SummaryInputs } from "./point-summary.ts";
import { GaugeSampler, type GaugeReport } from "./gauge-sampler.ts";
import { runPoint, type LoadShape } from "./run-point.ts";
import { connectSummary, DEFAULT_PRECONNECT_RATE, preconnect } from "./connections.ts";
import type { Target } from "./target.ts";

/** How one point loads the server and what is measured: shared by `run` (one point) and `sweep` (many). */
export interface PointSpec extends PointSettings, LoadShape {}

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
  /** Each request's statistics, in the order they finished (for --save-result's per-request lists). */
  requests: readonly RequestStats[];
  thresholds: ThresholdResult[];
}

export interface PointRunOptions {
  /** Folder that receives requests.jsonl (as requests finish), summary.json and summary.csv. */
  dir: string;
  labels: PointLabels;
  progress: boolean;
  /** The live panel's first words ("[2/4] 16 clients"); the point's load by default. */
  progressTitle?: string;
  /** Aborting it (Ctrl-C) cancels the requests in flight; they are recorded, and so is the summary. */
  interrupt?: AbortSignal;
  /** Extra keys for summary.json (backend, model, ...). */
  context?: Record<string, unknown>;
  /** Called after warm-up, just before the clock starts (a shard's start barrier waits here). */
  beforeStart?: () => Promise<void>;
  /** Columns of the point's own added to its row (a grid point's isl and osl). */
  columns?: Row;
  /** Extra keys written into every record (a shard's `shard`). */
  recordTags?: Record<string, unknown>;
  /** Per request sent and finished, beside the live panel (a worker passes them to its parent's panel). */
  onRequestSent?: () => void;
  onRequestFinished?: (stats: RequestStats) => void;
  /** Called once the summary files are written (a shard's shard.json). */
  onFinished?: (outcome: { requests: RequestStats[]; timing: LoopTiming; interrupted: boolean }) => void;
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
  // Every user's connection open before the clock starts, at a bounded rate: no connect storm in the measurements.
  const preconnected = spec.preconnectRate === null ? null : await preconnect(target.backend, spec, spec.preconnectRate ?? DEFAULT_PRECONNECT_RATE, options.interrupt);
  const sampler = spec.serverGauges ? new GaugeSampler(target.backend) : null;
  // the counters' baseline (prefix-cache tokens): in before the start barrier and the first request
  await sampler?.readBaseline();
  await options.beforeStart?.();
  const requestsFile = new JsonlWriter(join(options.dir, "requests.jsonl"), { truncate: true });
  const label = spec.trace ? `trace, ${spec.trace.requests.length} requests` : spec.requestRate === null ? `${spec.numClients} client${spec.numClients === 1 ? "" : "s"}` : `${spec.requestRate} req/s`;
  const budget = spec.numRequests ?? spec.trace?.requests.length ?? null;
  const progress = new LiveProgress({ title: options.progressTitle ?? label, budget: budget === null || !spec.shard ? budget : shareOf(budget, spec.shard), stopTimeS: spec.stopTimeS, enabled: options.progress });
  progress.start();
  const tags = options.recordTags;
  void sampler?.start();
  const connectMs: (number | null)[] = [];
  let outcome;
  try {
    outcome = await runPoint({
      backend: target.backend,
      sampler: target.sampler,
      shape: spec,
      interrupt: options.interrupt,
      onSent: () => {
        progress.onSent();
        options.onRequestSent?.();
      },
      onRecord: (record, stats) => {
        progress.onFinished(stats);
        options.onRequestFinished?.(stats);
        if (record.sent) connectMs.push(record.connect_ms ?? null);
        requestsFile.writeRecord(record, tags);
      },
    });
  } finally {
    progress.stop();
    requestsFile.close();
  }
  const gauges = sampler ? await sampler.stop() : { status: "off", gauges: {} };

  const { requests, timing } = outcome;
  // nothing in flight any more: the stream's garbage goes before the summary's and the report's work allocates
  collectGarbage();
  const interrupted = options.interrupt?.aborted ?? false;
  const inputs: SummaryInputs = {
    labels: options.labels,
    goodput: spec.goodput,
    steadyWindowMs: [performance.timeOrigin + timing.rampedUpAt, performance.timeOrigin + timing.stoppedAt],
    gauges: gauges.gauges,
    prefixCache: gauges.prefix_cache ?? null,
    percentiles: spec.percentiles,
  };
  const point = summarizePoint(requests, inputs);
  if (options.columns) point.row = { ...point.row, ...options.columns };
  const { summary, steady, perTurn, goodput: good, row } = point;
  const thresholds = checkThresholds(spec.thresholds ?? [], row);
  writeSummaryFiles(
    options.dir,
    summaryObject(point, inputs, {
      numTurns: spec.numTurns,
      serverGauges: gauges,
      rest: {
        ...(thresholds.length > 0 ? { thresholds, thresholds_ok: thresholds.every((t) => t.ok) } : {}),
        ...(target.systemPromptTokens !== null ? { system_prompt_tokens: target.systemPromptTokens } : {}),
        connect_ms: connectSummary(connectMs),
        preconnect: preconnected,
        dataset: { skipped: target.sampler.skipped() },
        ...options.context,
        interrupted,
      },
    }),
    [row],
  );
  options.onFinished?.({ requests, timing, interrupted });
  return { summary, steady, perTurn, goodput: good, gauges, row, interrupted, requests, thresholds };
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
      shard: null,
    },
    interrupt,
    onRecord: () => {},
  });
}
