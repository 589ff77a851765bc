import { UsageError } from "../common/usage-error.ts";
import { GRPC_FAULTS, parseFaultList, type FaultPlan } from "../mock/faults.ts";
import type { MockFaults } from "../mock/generation.ts";
import type { ConnectionBehaviour } from "../mock/http1.ts";
import { MOCK_PROTOCOLS } from "../mock/server.ts";
import { REASONING_FIELDS, type OutputShape } from "../mock/thinking.ts";
import { DEFAULT_PREFIX_CACHE, type PrefixCacheSettings } from "../mock/prefix-cache.ts";
import { DEFAULT_BATCHING, batchingTimingModel, fixedTimingModel, type TimingModel } from "../mock/timing.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./flag-values.ts";

export interface MockOptions {
  host: string;
  /** The first protocol's port; the next ones take the ports after it (all free ones when 0). */
  port: number;
  protocols: string[];
  model: string;
  /** A new timing model for each protocol: each simulated server has its own GPU. */
  createTiming: () => TimingModel;
  timingDescription: string;
  truthLogPath: string | null;
  /** Name of the environment variable holding the key requests must carry; the key is read when the servers start. */
  apiKeyEnv: string | null;
  faults: MockFaults;
  logPrompts: boolean;
  requestLogPath: string | null;
  connections: ConnectionBehaviour;
  faultPlan: FaultPlan;
  /** --prefix-cache: each server's prefix cache; null: none. */
  prefixCache: PrefixCacheSettings | null;
}

export function parseMockOptions(raw: RawFlags): MockOptions {
  const port = flag.nonNegativeInteger("--port", raw.port, 8000);
  const protocols = flag.text("--protocol", raw.protocol, "vllm").split(",").map((name) => name.trim());
  for (const name of protocols) {
    if (!(name in MOCK_PROTOCOLS)) throw new UsageError(`--protocol: expected one or more (comma-separated) of ${Object.keys(MOCK_PROTOCOLS).join(", ")}, got "${name}"`);
  }
  if (new Set(protocols).size !== protocols.length) throw new UsageError(`--protocol: each protocol once, got "${protocols.join(",")}"`);
  if (port > 65535 || (port > 0 && port + protocols.length - 1 > 65535)) throw new UsageError(`--port: expected 0..65535, got ${port}`);

  const fixed = raw.ttftMs !== undefined || raw.itlMs !== undefined;
  if (fixed && (raw.ttftMs === undefined || raw.itlMs === undefined)) {
    throw new UsageError("--ttft-ms and --itl-ms go together: give both for the fixed timing model, or neither for the batching one");
  }
  const createTiming = fixed ? fixedTiming(raw) : batchingTiming(raw);

  let apiKeyEnv: string | null = null;
  if (raw.apiKeyEnv !== undefined) {
    apiKeyEnv = flag.text("--api-key-env", raw.apiKeyEnv);
    if (!process.env[apiKeyEnv]) throw new UsageError(`--api-key-env ${apiKeyEnv}: that environment variable is not set`);
  }
  const output = outputShapeFlags(raw);
  const failAfter = raw.failAfterTokens === undefined ? null : flag.nonNegativeInteger("--fail-after-tokens", raw.failAfterTokens, 0);

  return {
    host: flag.text("--host", raw.host, "127.0.0.1"),
    port,
    protocols,
    model: flag.text("--model", raw.model, "mock-model"),
    createTiming,
    timingDescription: createTiming().description,
    truthLogPath: raw.truthLog === undefined ? null : flag.text("--truth-log", raw.truthLog),
    apiKeyEnv,
    faults: {
      failAfterTokens: failAfter,
      ignoreEos: raw.ignoreEos === true,
      maxOutputTokens: flag.positiveInteger("--max-output-tokens", raw.maxOutputTokens, null),
      ...(output === null ? {} : { output }),
    },
    logPrompts: raw.logPrompts === true,
    requestLogPath: raw.requestLog === undefined ? null : flag.text("--request-log", raw.requestLog),
    connections: connectionBehaviour(raw),
    faultPlan: faultPlan(raw, protocols),
    prefixCache: prefixCacheFlags(raw),
  };
}

/** --prefix-cache, --prefix-cache-blocks, --prefix-block-tokens. */
function prefixCacheFlags(raw: RawFlags): PrefixCacheSettings | null {
  const sized = raw.prefixCacheBlocks !== undefined || raw.prefixBlockTokens !== undefined;
  if (raw.prefixCache !== true) {
    if (sized) throw new UsageError("--prefix-cache-blocks and --prefix-block-tokens size the prefix cache: give --prefix-cache too");
    return null;
  }
  return {
    blockTokens: flag.positiveInteger("--prefix-block-tokens", raw.prefixBlockTokens, DEFAULT_PREFIX_CACHE.blockTokens)!,
    capacityBlocks: flag.positiveInteger("--prefix-cache-blocks", raw.prefixCacheBlocks, DEFAULT_PREFIX_CACHE.capacityBlocks)!,
  };
}

function connectionBehaviour(raw: RawFlags): ConnectionBehaviour {
  const idleS = flag.nonNegativeSeconds("--idle-timeout", raw.idleTimeout, null);
  if (idleS === 0) throw new UsageError("--idle-timeout: expected a number of seconds > 0, got 0");
  const behaviour: ConnectionBehaviour = {
    closeAfterAnswer: raw.closeAfterAnswer === true,
    idleTimeoutMs: idleS === null ? null : idleS * 1000,
    maxRequests: flag.positiveInteger("--keep-alive-max", raw.keepAliveMax, null),
    connectionClose: raw.connectionClose === true,
  };
  if (behaviour.closeAfterAnswer && behaviour.connectionClose) {
    throw new UsageError("--close-after-answer and --connection-close are two ways to close after every answer (saying keep-alive or saying close): give one");
  }
  return behaviour;
}

function faultPlan(raw: RawFlags, protocols: string[]): FaultPlan {
  const text = raw.faults === undefined ? "" : flag.text("--faults", raw.faults);
  const shares = parseFaultList(text);
  if (typeof shares === "string") throw new UsageError(`--faults: ${shares}`);
  for (const protocol of protocols) {
    if (MOCK_PROTOCOLS[protocol]!.kind !== "grpc") continue;
    const unsupported = shares.filter((share) => !GRPC_FAULTS.has(share.name));
    if (unsupported.length > 0) {
      throw new UsageError(`--faults: ${unsupported.map((share) => share.name).join(", ")} cannot strike gRPC (protocol ${protocol}); it can do ${[...GRPC_FAULTS].join(", ")}`);
    }
  }
  return {
    shares,
    seed: flag.nonNegativeInteger("--fault-seed", raw.faultSeed, 0),
    delayMs: flag.nonNegativeNumber("--fault-delay-ms", raw.faultDelayMs, 1000),
    skip: flag.nonNegativeInteger("--fault-skip", raw.faultSkip, 0),
  };
}

/** --reasoning-tokens, --reasoning-field, --tool-call-tokens, --no-chunk-usage: what every answer is made of; null for plain content. */
function outputShapeFlags(raw: RawFlags): OutputShape | null {
  const reasoningTokens = flag.nonNegativeInteger("--reasoning-tokens", raw.reasoningTokens, 0);
  const toolCallTokens = flag.nonNegativeInteger("--tool-call-tokens", raw.toolCallTokens, 0);
  if (raw.reasoningField !== undefined && reasoningTokens === 0) throw new UsageError("--reasoning-field says where the thinking goes: give --reasoning-tokens N too");
  const reasoningField = flag.oneOf("--reasoning-field", raw.reasoningField, REASONING_FIELDS, "reasoning");
  const chunkUsage = raw.chunkUsage !== false;
  return reasoningTokens === 0 && toolCallTokens === 0 && chunkUsage ? null : { reasoningTokens, reasoningField, toolCallTokens, chunkUsage };
}

function fixedTiming(raw: RawFlags): () => TimingModel {
  const timing = {
    ttftMs: flag.nonNegativeNumber("--ttft-ms", raw.ttftMs, 0),
    itlMs: flag.nonNegativeNumber("--itl-ms", raw.itlMs, 0),
    tokensPerEvent: flag.positiveInteger("--tokens-per-event", raw.tokensPerEvent, 1)!,
  };
  return () => fixedTimingModel(timing);
}

function batchingTiming(raw: RawFlags): () => TimingModel {
  const timing = {
    prefillTps: flag.positiveNumber("--prefill-tps", raw.prefillTps, DEFAULT_BATCHING.prefillTps),
    stepMs: flag.nonNegativeNumber("--step-ms", raw.stepMs, DEFAULT_BATCHING.stepMs),
    stepMsPerSeq: flag.nonNegativeNumber("--step-ms-per-seq", raw.stepMsPerSeq, DEFAULT_BATCHING.stepMsPerSeq),
    maxBatch: flag.positiveInteger("--max-batch", raw.maxBatch, DEFAULT_BATCHING.maxBatch)!,
  };
  return () => batchingTimingModel(timing);
}
