import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { BACKEND_NAMES } from "../backends/registry.ts";
import type { ResolvedBenchConfig } from "./bench-config.ts";
import * as publicApi from "./public.ts";
import { resolveConfig } from "./resolve-config.ts";
import { applyOverrides, type SweepOverrides } from "./sweep-flags.ts";
import { UsageError } from "../common/usage-error.ts";

let registered = false;

/**
 * Serves `import { defineConfig } from "llmbench"` to configs. A compiled binary has no
 * node_modules to find "llmbench" in, so the module is registered as a virtual one before the
 * config is imported; `import type` lines are erased and need nothing.
 */
function registerPublicModule(): void {
  if (registered) return;
  registered = true;
  Bun.plugin({
    name: "llmbench-config-api",
    setup(build) {
      build.module("llmbench", () => ({ exports: { ...publicApi }, loader: "object" }));
    },
  });
}

/** Imports a bench.config.ts (or .js) and returns its default export, unchecked. */
export async function loadConfigModule(path: string): Promise<{ path: string; value: unknown }> {
  const absolute = resolve(path);
  if (!existsSync(absolute)) throw new UsageError(`${path}: no such config file`);
  registerPublicModule();
  let module: Record<string, unknown>;
  try {
    // Only an absolute path can be imported from inside a compiled binary.
    module = await import(absolute);
  } catch (error) {
    throw new UsageError(`${path}: the config could not be loaded: ${(error as Error)?.message ?? String(error)}`);
  }
  return { path: absolute, value: module.default };
}

/** A config file loaded, with the flags' overrides applied, checked and resolved (UsageError when wrong). */
export async function loadBenchConfig(path: string, overrides: SweepOverrides = {}): Promise<ResolvedBenchConfig> {
  const loaded = await loadConfigModule(path);
  return resolveConfig(applyOverrides(loaded.value, overrides), loaded.path, BACKEND_NAMES);
}
