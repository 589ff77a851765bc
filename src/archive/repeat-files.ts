/** Finding a run's repeats.json (run --num-runs) per point, for `compare`. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { PointIntervals } from "../metrics/noise.ts";

function readIntervals(path: string): PointIntervals | null {
  if (!existsSync(path)) return null;
  try {
    const metrics = (JSON.parse(readFileSync(path, "utf8")) as { metrics?: unknown }).metrics;
    return metrics !== null && typeof metrics === "object" ? (metrics as PointIntervals) : null;
  } catch {
    return null; // unreadable: compared without intervals
  }
}

/**
 * Per point key ("clients=4"), the intervals of the points that were repeated: a sweep's from each
 * point folder (its summary.json lists them), a single run's from its own folder under `singleKey`.
 */
export function repeatsOfRun(dir: string, singleKey: string | null = null): Map<string, PointIntervals> {
  const found = new Map<string, PointIntervals>();
  if (singleKey !== null) {
    const own = readIntervals(join(dir, "repeats.json"));
    if (own) found.set(singleKey, own);
    return found;
  }
  try {
    const summary = JSON.parse(readFileSync(join(dir, "summary.json"), "utf8")) as { points?: Array<{ point?: unknown; folder?: unknown }> };
    for (const point of summary.points ?? []) {
      if (typeof point.point !== "string" || typeof point.folder !== "string") continue;
      const intervals = readIntervals(join(dir, point.folder, "repeats.json"));
      if (intervals) found.set(point.point, intervals);
    }
  } catch {
    // no sweep summary (yet): no intervals
  }
  return found;
}
