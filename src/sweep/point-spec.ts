/**
 * The one place where the config meets the point runner: the TargetSpec shared by every point,
 * and the PointSpec of each point. Request-rate points, multi-turn conversations and the system
 * prompt are in the config (typed and validated) but the point runner cannot run them yet, so
 * `unsupportedSettings` refuses them before any server starts.
 *
 * WIRING: when PointSpec/TargetSpec gain `requestRate`, `numTurns` and `systemPromptPath`, set
 * them in `pointSpecFor` / `targetSpecFor` below and remove the matching line of `unsupportedSettings`.
 */
import type { ResolvedBenchConfig, SweepPoint } from "../config/bench-config.ts";
import type { PointLabels } from "../report/seed-columns.ts";
import type { PointSpec } from "../runner/point.ts";
import type { TargetSpec } from "../runner/target.ts";

/** Settings of the config this build cannot run yet, each named by its field, with why. */
export function unsupportedSettings(config: ResolvedBenchConfig): string[] {
  const problems: string[] = [];
  if (config.sweep.points.some((point) => point.kind === "rate")) {
    problems.push("sweep.rates: request-rate points are not supported yet by this build (the open-loop workload is not wired in); use sweep.clients");
  }
  if (config.sweep.turns !== 1) problems.push("sweep.turns: multi-turn conversations are not supported yet by this build; use 1");
  if (config.dataset.systemPrompt.enabled) {
    problems.push("dataset.systemPrompt.enabled: the system prompt is not supported yet by this build; set it to false");
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
    datasetPath: config.dataset.path,
    tokenizer: config.dataset.tokenizer,
    outputLen: config.dataset.outputLen ?? undefined,
    // systemPromptPath: config.dataset.systemPrompt.enabled ? config.dataset.systemPrompt.path : null,
  };
}

export function pointSpecFor(config: ResolvedBenchConfig, point: SweepPoint): PointSpec {
  const { sweep } = config;
  if (point.kind === "rate") throw new Error(`request-rate points cannot run yet (rate ${point.rate}); unsupportedSettings should have refused them`);
  return {
    numClients: point.clients,
    rampUpTimeS: point.rampUpS,
    stopTimeS: sweep.stopTimeS,
    numRequests: sweep.numRequests,
    drainTimeoutS: sweep.drainTimeoutS,
    requestTimeoutS: sweep.requestTimeoutS,
    seed: sweep.seed,
    // numTurns: sweep.turns,
    // requestRate: point.kind === "rate" ? point.rate : null,
  };
}

/** The first columns of the point's CSV row. */
export function pointLabelsFor(config: ResolvedBenchConfig, point: SweepPoint): PointLabels {
  return {
    modelSize: config.model.sizeB === null ? config.model.tag : String(config.model.sizeB),
    tp: config.model.tp,
    numClients: point.kind === "clients" ? point.clients : `rate ${point.rate}`,
    mode: config.model.mode,
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
