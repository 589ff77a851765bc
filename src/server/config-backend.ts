import type { Backend } from "../backends/backend.ts";
import { createBackend } from "../backends/registry.ts";
import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import { readApiKey } from "../common/api-key.ts";

/** The config's backend aimed at `url`, for health checks (the key is read from the environment, never stored). */
export function backendForConfig(config: ResolvedBenchConfig, url: string): Backend {
  return createBackend(config.backend, {
    baseUrl: url,
    model: config.model.name,
    apiKey: readApiKey(config.server.apiKeyEnv),
    insecure: config.server.insecure,
  });
}
