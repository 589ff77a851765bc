import { BACKEND_NAMES, backendDefinition } from "../backends/registry.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./flag-values.ts";
import { UsageError } from "../common/usage-error.ts";

/** The flags that pick and reach a server, shared by `run` and `probe`. */
export interface BackendFlags {
  backend: string;
  /** An http(s) URL, or host:port for gRPC backends: each backend says which it takes. */
  baseUrl: string;
  /** Name of the environment variable holding the API key; null: no key. The key itself is never stored here. */
  apiKeyEnv: string | null;
  insecure: boolean;
  pplProto: "v1" | "v2";
  /** Thinking is inside `<think>…</think>` in the content (--think-tags). */
  thinkTags?: boolean;
}

export function parseBackendFlags(raw: RawFlags): BackendFlags {
  const backend = flag.oneOf("--backend", raw.backend, BACKEND_NAMES, "vllm");
  const definition = backendDefinition(backend);
  const given = raw.baseUrl !== undefined && raw.baseUrl !== "";
  if (!given && definition.defaultBaseUrl === null) {
    throw new UsageError(`--base-url is required with --backend ${backend} (it has no default address)`);
  }
  const fallback = definition.defaultBaseUrl ?? "";
  const baseUrl =
    definition.address === "host-port"
      ? flag.hostPort("--base-url", raw.baseUrl, fallback, `--backend ${backend} speaks gRPC and`)
      : flag.httpUrl("--base-url", raw.baseUrl, fallback);

  let apiKeyEnv = definition.defaultApiKeyEnv;
  if (raw.apiKeyEnv !== undefined) {
    apiKeyEnv = flag.text("--api-key-env", raw.apiKeyEnv);
    if (!process.env[apiKeyEnv]) throw new UsageError(`--api-key-env ${apiKeyEnv}: that environment variable is not set`);
  }

  if (raw.pplProto !== undefined && backend !== "ppl") throw new UsageError(`--ppl-proto applies only to --backend ppl, not ${backend}`);
  return {
    backend,
    baseUrl,
    apiKeyEnv,
    insecure: raw.insecure === true,
    pplProto: flag.oneOf("--ppl-proto", raw.pplProto, ["v1", "v2"] as const, "v2"),
    thinkTags: raw.thinkTags === true,
  };
}

/** Moved to common/api-key.ts (the runner reads the key too); kept so existing imports work. */
export { describeApiKey, readApiKey } from "../common/api-key.ts";
