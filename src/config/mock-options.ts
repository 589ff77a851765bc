import { UsageError } from "./usage-error.ts";
import { MOCK_PROTOCOLS } from "../mock/server.ts";
import { DEFAULT_BATCHING, batchingTimingModel, fixedTimingModel, type TimingModel } from "../mock/timing.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./run-options.ts";

export interface MockOptions {
  host: string;
  port: number;
  protocol: string;
  model: string;
  timing: TimingModel;
  truthLogPath: string | null;
  maxOutputTokens: number | null;
  logPrompts: boolean;
}

export function parseMockOptions(raw: RawFlags): MockOptions {
  const port = flag.nonNegativeInteger("--port", raw.port, 8000);
  if (port > 65535) throw new UsageError(`--port: expected 0..65535, got ${port}`);
  const fixed = raw.ttftMs !== undefined || raw.itlMs !== undefined;
  if (fixed && (raw.ttftMs === undefined || raw.itlMs === undefined)) {
    throw new UsageError("--ttft-ms and --itl-ms go together: give both for the fixed timing model, or neither for the batching one");
  }
  const timing = fixed
    ? fixedTimingModel({
        ttftMs: flag.nonNegativeNumber("--ttft-ms", raw.ttftMs, 0),
        itlMs: flag.nonNegativeNumber("--itl-ms", raw.itlMs, 0),
        tokensPerEvent: flag.positiveInteger("--tokens-per-event", raw.tokensPerEvent, 1)!,
      })
    : batchingTimingModel({
        prefillTps: flag.positiveNumber("--prefill-tps", raw.prefillTps, DEFAULT_BATCHING.prefillTps),
        stepMs: flag.nonNegativeNumber("--step-ms", raw.stepMs, DEFAULT_BATCHING.stepMs),
        stepMsPerSeq: flag.nonNegativeNumber("--step-ms-per-seq", raw.stepMsPerSeq, DEFAULT_BATCHING.stepMsPerSeq),
        maxBatch: flag.positiveInteger("--max-batch", raw.maxBatch, DEFAULT_BATCHING.maxBatch)!,
      });
  return {
    host: flag.text("--host", raw.host, "127.0.0.1"),
    port,
    protocol: flag.oneOf("--protocol", raw.protocol, Object.keys(MOCK_PROTOCOLS), "vllm"),
    model: flag.text("--model", raw.model, "mock-model"),
    timing,
    truthLogPath: raw.truthLog === undefined ? null : flag.text("--truth-log", raw.truthLog),
    maxOutputTokens: flag.positiveInteger("--max-output-tokens", raw.maxOutputTokens, null),
    logPrompts: raw.logPrompts === true,
  };
}
