import type { ResolvedBenchConfig } from "../../config/bench-config.ts";
import { loadTarget } from "../../runner/target.ts";
import { targetSpecFor } from "../../sweep/point-spec.ts";
import type { Finding } from "../finding.ts";

/** Conversations drawn to check that entries tokenize, and to average the output length they ask for. */
const SAMPLED = 32;

export interface DatasetCheck {
  finding: Finding;
  /** Mean output tokens asked for per request, from the sampled conversations; null when loading failed. */
  meanOutputLen: number | null;
}

/** Loads the tokenizer, dataset and system prompt exactly as the sweep will, and draws a few conversations. */
export async function checkDataset(config: ResolvedBenchConfig): Promise<DatasetCheck> {
  const started = performance.now();
  try {
    const target = await loadTarget(targetSpecFor(config));
    target.backend.close?.();
    let turns = 0;
    let outputTokens = 0;
    for (let user = 0; user < SAMPLED; user++) {
      for (const turn of target.sampler.userSequence(config.sweep.seed, user)().turns.slice(0, config.sweep.turns)) {
        turns++;
        outputTokens += turn.outputLen;
      }
    }
    const meanOutputLen = Math.round(outputTokens / turns);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return {
      finding: {
        check: "dataset",
        status: "ok",
        detail: `${config.dataset.path ?? "synthetic prompts"} and tokenizer ${config.dataset.tokenizer} load (${seconds} s); ${SAMPLED} conversations drawn, ${meanOutputLen} output tokens asked per request on average`,
        fix: null,
      },
      meanOutputLen,
    };
  } catch (error) {
    return {
      finding: {
        check: "dataset",
        status: "fail",
        detail: (error as Error).message,
        fix: `fix dataset.path / dataset.tokenizer / dataset.systemPrompt in ${config.configPath}`,
      },
      meanOutputLen: null,
    };
  }
}
