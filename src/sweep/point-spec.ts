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

/** A grid point's lengths after its load: "_isl-1024_osl-128" in a folder name, ",isl=1024,osl=128" in a key. */
function lengthsOf(point: SweepPoint, separator: "_" | ","): string {
  const equals = separator === "_" ? "-" : "=";
  return [point.inputLen === undefined ? "" : `${separator}isl${equals}${point.inputLen}`, point.outputLen === undefined ? "" : `${separator}osl${equals}${point.outputLen}`].join("");
}

/** "01_clients-4" / "02_rate-2.5" / "03_clients-4_isl-1024_osl-128": the point's folder in the run folder, in sweep order. */
export function pointFolderName(index: number, count: number, point: SweepPoint): string {
  const number = String(index + 1).padStart(Math.max(2, String(count).length), "0");
  const load = point.kind === "clients" ? `clients-${point.clients}` : point.kind === "rate" ? `rate-${point.rate}` : `trace-${basename(point.trace).replace(/\.[^.]*$/, "")}-x${point.speed}`;
  return `${number}_${load}${lengthsOf(point, "_")}`;
}

/** "clients=4" / "rate=2.5" / "clients=4,isl=1024,osl=128": how points of two runs are matched by `compare` (the load first: reports read its number). */
export function pointKey(point: SweepPoint): string {
  const load = point.kind === "clients" ? `clients=${point.clients}` : point.kind === "rate" ? `rate=${point.rate}` : `trace=${basename(point.trace)}@${point.speed}`;
  return `${load}${lengthsOf(point, ",")}`;
}
