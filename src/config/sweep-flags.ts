import { resolve } from "node:path";
import { isPlainObject } from "./field-checks.ts";
import * as flag from "./flag-values.ts";
import type { RawFlags } from "./run-options.ts";
import { UsageError } from "./usage-error.ts";

/** Flags that change a config for one run without editing it. */
export interface SweepOverrides {
  clients?: number[];
  rates?: number[];
  numRequests?: number;
  stopTimeS?: number;
  /** Absolute: relative to where llmbench was started, not to the config. */
  outputDir?: string;
}

export function parseSweepFlags(raw: RawFlags): SweepOverrides {
  const overrides: SweepOverrides = {};
  if (raw.clients !== undefined && raw.rates !== undefined) throw new UsageError("give --clients or --rates, not both");
  if (raw.clients !== undefined) overrides.clients = numberList("--clients", raw.clients, (name, item) => flag.positiveInteger(name, item));
  if (raw.rates !== undefined) overrides.rates = numberList("--rates", raw.rates, (name, item) => flag.positiveNumber(name, item, 0));
  if (raw.numRequests !== undefined) overrides.numRequests = flag.positiveInteger("--num-requests", raw.numRequests);
  if (raw.stopTime !== undefined) overrides.stopTimeS = flag.positiveSeconds("--stop-time", raw.stopTime, 0);
  if (raw.outputDir !== undefined) overrides.outputDir = resolve(flag.text("--output-dir", raw.outputDir));
  return overrides;
}

/** "1,4,16" (or a repeated flag) as a list; every item is checked by `parse`, which names the flag. */
function numberList(name: string, value: unknown, parse: (name: string, item: string) => number): number[] {
  const items = [value].flat().flatMap((item) => String(item).split(",")).map((item) => item.trim());
  if (items.length === 0 || items.some((item) => item === "")) throw new UsageError(`${name}: expected a comma-separated list such as 1,4,16, got "${[value].flat().join(",")}"`);
  return items.map((item) => parse(name, item));
}

/** The config's default export with the overrides written in, before it is validated. */
export function applyOverrides(config: unknown, overrides: SweepOverrides): unknown {
  if (!isPlainObject(config)) return config;
  const result: Record<string, unknown> = { ...config };
  if (isPlainObject(config.sweep)) {
    const sweep: Record<string, unknown> = { ...config.sweep };
    if (overrides.clients) {
      sweep.clients = overrides.clients;
      delete sweep.rates;
    }
    if (overrides.rates) {
      sweep.rates = overrides.rates;
      delete sweep.clients;
    }
    if (overrides.numRequests !== undefined) sweep.numRequests = overrides.numRequests;
    if (overrides.stopTimeS !== undefined) sweep.stopTimeS = overrides.stopTimeS;
    result.sweep = sweep;
  }
  if (overrides.outputDir !== undefined) result.output = { ...(isPlainObject(config.output) ? config.output : {}), dir: overrides.outputDir };
  return result;
}
