import { parseBackendFlags, type BackendFlags } from "./backend-flags.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./flag-values.ts";

/** Everything `llmbench probe` needs, validated. */
export interface ProbeOptions extends BackendFlags {
  /** "" lets the server use its own model, where the protocol allows it. */
  model: string;
  prompt: string;
  outputLen: number;
  requestTimeoutS: number;
}

export const DEFAULT_PROBE_PROMPT = "Tell me about the history of the printing press.";

export function parseProbeOptions(raw: RawFlags): ProbeOptions {
  return {
    ...parseBackendFlags(raw),
    model: raw.model === undefined ? "" : flag.text("--model", raw.model),
    prompt: flag.text("--prompt", raw.prompt, DEFAULT_PROBE_PROMPT),
    outputLen: flag.positiveInteger("--output-len", raw.outputLen, 16)!,
    requestTimeoutS: flag.positiveSeconds("--request-timeout", raw.requestTimeout, 60),
  };
}
