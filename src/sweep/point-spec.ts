/**
 * The one place where the config meets the point runner: the TargetSpec shared by every point,
 * and the PointSpec of each point.
 */
import type { ResolvedBenchConfig, SweepPoint } from "../config/bench-config.ts";
import type { PointLabels } from "../report/seed-columns.ts";
import type { PointSpec } from "../runner/point.ts";
import type { TargetSpec } from "../runner/target.ts";
import { percentilesOfThresholds } from "../config/knob-flags.ts";

/** Settings of the config that cannot run together, each named by its field, with why. */
export function unsupportedSettings(config: ResolvedBenchConfig): string[] {
  const problems: string[] = [];
  if (config.sweep.turns !== 1 && config.sweep.points.some((point) => point.kind === "rate")) {
    problems.push("sweep.turns: multi-turn conversations need closed-loop clients (sweep.clients), not request rates");
  }
  return problems;
}

export function targetSpecFor(config: ResolvedBenchConfig): TargetSpec {
  return {
    backend: config.backend,
    baseUrl: config.server.url,
    model: config.model.name,
    apiKeyEnv: config.server.apiKeyEnv,
    insecure: config.server.insecure,
    dataset: "file",
    datasetPath: config.dataset.path,
    tokenizer: config.dataset.tokenizer,
    outputLen: config.dataset.outputLen ?? undefined,
    systemPromptPath: config.dataset.systemPrompt.enabled ? config.dataset.systemPrompt.path : null,
    minInputLen: null,
    maxInputLen: null,
    maxTotalLen: null,
    synthetic: null,
    seed: config.sweep.seed,
    extraBody: config.server.extraBody,
    headers: config.server.headers,
  };
}

export function pointSpecFor(config: ResolvedBenchConfig, point: SweepPoint): PointSpec {
  const { sweep } = config;
  return {
    numClients: point.kind === "clients" ? point.clients : 1,
    rampUpTimeS: point.kind === "clients" ? point.rampUpS : 0,
    requestRate: point.kind === "rate" ? point.rate : null,
    burstiness: 1,
    maxConcurrency: null,
    stopTimeS: sweep.stopTimeS,
    numRequests: sweep.numRequests,
    drainTimeoutS: sweep.drainTimeoutS,
    requestTimeoutS: sweep.requestTimeoutS,
    seed: sweep.seed,
    numTurns: sweep.turns,
    thinkTimeS: 0,
    warmupRequests: 0,
    goodput: null,
    serverGauges: true,
    percentiles: [...new Set([...sweep.metricPercentiles, ...percentilesOfThresholds(sweep.thresholds)])],
    thresholds: sweep.thresholds,
  };
}

/** The first columns of the point's CSV row (and request_rate for a rate point). */
export function pointLabelsFor(config: ResolvedBenchConfig, point: SweepPoint): PointLabels {
  return {
    modelSize: config.model.sizeB === null ? config.model.tag : String(config.model.sizeB),
    tp: config.model.tp,
    numClients: point.kind === "clients" ? point.clients : "",
    mode: config.model.mode,
    requestRate: point.kind === "rate" ? point.rate : null,
  };
}

/** "01_clients-4" / "02_rate-2.5": the point's folder in the run folder, in sweep order. */
export function pointFolderName(index: number, count: number, point: SweepPoint): string {
  const number = String(index + 1).padStart(Math.max(2, String(count).length), "0");
  return point.kind === "clients" ? `${number}_clients-${point.clients}` : `${number}_rate-${point.rate}`;
}

/** "clients=4" / "rate=2.5": how points of two runs are matched by `compare`. */
export function pointKey(point: SweepPoint): string {
  return point.kind === "clients" ? `clients=${point.clients}` : `rate=${point.rate}`;
}
