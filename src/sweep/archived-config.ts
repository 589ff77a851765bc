import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import { redactArgv, redactEnv } from "../server/redact.ts";

/**
 * The resolved config as it is archived with the run: the launch command as computed, and no
 * secret. API keys are never in a config (it names their environment variable); a launch env or
 * argv that carries one is redacted.
 */
export function resolvedConfigForArchive(config: ResolvedBenchConfig): ResolvedBenchConfig {
  if (!config.launch) return config;
  return {
    ...config,
    launch: { ...config.launch, command: redactArgv(config.launch.command), env: redactEnv(config.launch.env) },
  };
}
