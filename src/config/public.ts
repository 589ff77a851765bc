/**
 * What a bench.config.ts can import from "llmbench". The compiled binary serves this module to
 * the config it loads (see load-config.ts); in this repository tsconfig maps "llmbench" here, so
 * editors check a config against the real types.
 */
import type { BenchConfig } from "./bench-config.ts";

export type {
  BenchConfig,
  DatasetConfig,
  LaunchConfig,
  LaunchContext,
  LaunchInput,
  ModelConfig,
  OutputConfig,
  ServerConfig,
  SweepConfig,
} from "./bench-config.ts";
export { freePort } from "../common/free-port.ts";

/** Returns the config unchanged: it is only there so that editors type-check it. */
export function defineConfig(config: BenchConfig): BenchConfig {
  return config;
}
