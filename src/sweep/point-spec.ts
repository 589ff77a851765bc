/**
 * Where the config meets the point runner: each point's settings (built when the config was
 * resolved, or for a capacity search's probe now, by the same parser) and how the point is named.
 */
import { basename } from "node:path";
import type { ResolvedBenchConfig, SweepPoint } from "../config/bench-config.ts";
import type { RunSettings } from "../config/run-settings.ts";
import { baseSettings } from "../config/sweep-points.ts";

export { baseSettings, settingsForPoint } from "../config/sweep-points.ts";

/** The settings of the sweep's first point, as the target spec (what `run` calls them): kept for the doctor's dataset check. */
export function targetSpecFor(config: ResolvedBenchConfig): RunSettings {
  return baseSettings(config);
}

function lengthsOf(point: SweepPoint, separator: "_" | ","): string {
  const parts = [point.inputLen === undefined ? null : `isl${separator === "_" ? "-" : "="}${point.inputLen}`, point.outputLen === undefined ? null : `osl${separator === "_" ? "-" : "="}${point.outputLen}`];
  return parts.filter(Boolean).map((part) => `${part}${separator}`).join("");
}

/** "01_clients-4" / "02_rate-2.5" / "03_isl-1024_osl-128_clients-4": the point's folder in the run folder, in sweep order. */
export function pointFolderName(index: number, count: number, point: SweepPoint): string {
  const number = String(index + 1).padStart(Math.max(2, String(count).length), "0");
  const load = point.kind === "clients" ? `clients-${point.clients}` : point.kind === "rate" ? `rate-${point.rate}` : `trace-${basename(point.trace).replace(/\.[^.]*$/, "")}-x${point.speed}`;
  return `${number}_${lengthsOf(point, "_")}${load}`;
}

/** "clients=4" / "rate=2.5" / "isl=1024,osl=128,clients=4": how points of two runs are matched by `compare`. */
export function pointKey(point: SweepPoint): string {
  const load = point.kind === "clients" ? `clients=${point.clients}` : point.kind === "rate" ? `rate=${point.rate}` : `trace=${basename(point.trace)}@${point.speed}`;
  return `${lengthsOf(point, ",")}${load}`;
}
