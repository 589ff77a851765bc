import type { RawFlags } from "./flag-values.ts";
import * as flag from "./flag-values.ts";
import { UsageError } from "../common/usage-error.ts";

/**
 * `vllm bench serve`'s flags, translated into llmbench's own with the same meaning, so that a
 * vLLM command line runs as its user expects. What has no llmbench equivalent is refused here.
 */

/** vLLM's endpoints, and the backend that speaks each. */
const ENDPOINT_BACKENDS: Record<string, string> = { "/v1/completions": "vllm", "/v1/chat/completions": "openai-chat" };

/** vLLM's defaults for --dataset-name random. */
const RANDOM_INPUT_LEN = 1024;
const RANDOM_OUTPUT_LEN = 128;

function both(raw: RawFlags, ours: string, theirs: string): void {
  if (raw[ours] !== undefined && raw[theirs] !== undefined && String(raw[ours]) !== String(raw[theirs])) {
    throw new UsageError(`--${kebab(ours)} and --${kebab(theirs)} say the same thing differently: give one`);
  }
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function translateVllmFlags(input: RawFlags): RawFlags {
  const raw: RawFlags = { ...input };

  if (raw.numPrompts !== undefined) {
    both(raw, "numRequests", "numPrompts");
    raw.numRequests = raw.numPrompts;
    // vLLM's default load: every prompt at once (--request-rate inf), capped by --max-concurrency.
    if (raw.requestRate === undefined && raw.numClients === undefined) raw.requestRate = "inf";
  }
  // --max-concurrency alone caps vLLM's default rate, inf.
  if (raw.maxConcurrency !== undefined && raw.requestRate === undefined && raw.numClients === undefined) raw.requestRate = "inf";

  const name = raw.datasetName;
  if (name !== undefined) {
    const chosen = flag.oneOf("--dataset-name", name, ["sharegpt", "random"] as const, "sharegpt");
    if (raw.dataset !== undefined) throw new UsageError("--dataset-name and --dataset both pick the dataset: give one");
    if (chosen === "random") {
      raw.dataset = "synthetic";
      for (const [ours, theirs] of [["inputLen", "randomInputLen"], ["prefixLen", "randomPrefixLen"], ["outputLen", "randomOutputLen"]] as const) {
        both(raw, ours, theirs);
        if (raw[theirs] !== undefined) raw[ours] = raw[theirs];
      }
      raw.inputLen ??= RANDOM_INPUT_LEN;
      raw.outputLen ??= RANDOM_OUTPUT_LEN;
      if (raw.sharegptOutputLen !== undefined) throw new UsageError("--sharegpt-output-len applies to --dataset-name sharegpt");
    } else {
      if (raw.datasetPath === undefined) throw new UsageError("--dataset-name sharegpt needs --dataset-path (the ShareGPT JSON file)");
    }
  }
  for (const random of ["randomInputLen", "randomOutputLen", "randomRangeRatio", "randomPrefixLen"]) {
    if (raw[random] !== undefined && raw.dataset !== "synthetic") throw new UsageError(`--${kebab(random)} applies to --dataset-name random`);
  }
  if (raw.randomRangeRatio !== undefined) {
    const ratio = flag.nonNegativeNumber("--random-range-ratio", raw.randomRangeRatio, 0);
    if (ratio >= 1) throw new UsageError(`--random-range-ratio: expected a number in [0, 1), got ${String(raw.randomRangeRatio)}`);
    if (raw.inputLenStd !== undefined || raw.outputLenStd !== undefined) throw new UsageError("--random-range-ratio (uniform lengths) and --input-len-std/--output-len-std (normal) are two length distributions: give one");
    raw.lengthRangeRatio = ratio;
  }
  if (raw.sharegptOutputLen !== undefined) {
    if (raw.dataset === "synthetic") throw new UsageError("--sharegpt-output-len applies to a dataset file (--dataset-name sharegpt)");
    both(raw, "outputLen", "sharegptOutputLen");
    raw.outputLen = raw.sharegptOutputLen;
  }

  if (raw.host !== undefined || raw.port !== undefined) {
    if (raw.baseUrl !== undefined) throw new UsageError("--base-url and --host/--port both say where the server is: give one");
    const host = flag.text("--host", raw.host, "127.0.0.1");
    const port = flag.positiveInteger("--port", raw.port, 8000)!;
    if (port > 65535) throw new UsageError(`--port: expected a port 1..65535, got ${port}`);
    raw.baseUrl = `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
  }
  if (raw.endpoint !== undefined) {
    const endpoint = flag.text("--endpoint", raw.endpoint);
    const backend = ENDPOINT_BACKENDS[endpoint];
    if (backend === undefined) {
      throw new UsageError(`--endpoint: expected ${Object.keys(ENDPOINT_BACKENDS).join(" or ")} (other servers are picked with --backend), got "${endpoint}"`);
    }
    if (raw.backend !== undefined && raw.backend !== "vllm" && raw.backend !== backend) {
      throw new UsageError(`--endpoint ${endpoint} is spoken by --backend ${backend}, not ${String(raw.backend)}`);
    }
    raw.backend = backend;
  }
  return raw;
}
