import { basename } from "node:path";
import type { ReportRun } from "./run-data.ts";

/**
 * What a run asked of the server, as flat comparable fields: runs compare only when these agree.
 * Paths compare by file name (the same dataset sits in different folders on different hosts); the
 * points themselves (client counts, rates) may differ: runs are matched point by point.
 */
export type Workload = Record<string, string>;

/** Settings of one point ("at clients=4: rampUpS"): compared only between runs that have the point. */
const POINT_PREFIX = "at ";

const NOT_WORKLOAD = new Set(["points", "clients", "rates", "drainTimeoutS", "requestTimeoutS", "drain_timeout_s", "request_timeout_s"]);

function text(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return /[/\\]/.test(value) ? basename(value) : value;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function flatInto(into: Workload, prefix: string, value: unknown): void {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) if (!NOT_WORKLOAD.has(key)) flatInto(into, `${prefix}.${key}`, item);
  } else {
    into[prefix] = text(value);
  }
}

/** The workload of a sweep (config.resolved.json's dataset and sweep) or of a `llmbench run` (summary.json's workload). */
export function workloadOf(run: ReportRun): Workload {
  const workload: Workload = { load: run.xAxis === "rate" ? "request rate" : "clients" };
  if (run.settings) {
    flatInto(workload, "dataset", run.settings.dataset);
    flatInto(workload, "sweep", run.settings.sweep);
    const points = (run.settings.sweep as { points?: Record<string, unknown>[] } | undefined)?.points ?? [];
    for (const point of points) {
      const key = point.kind === "clients" ? `clients=${point.clients}` : `rate=${point.rate}`;
      for (const [name, value] of Object.entries(point)) if (name !== "kind" && name !== "clients" && name !== "rate") workload[`${POINT_PREFIX}${key}: ${name}`] = text(value);
    }
  } else {
    flatInto(workload, "run", run.points[0]?.summary?.workload ?? {});
  }
  return workload;
}

export interface WorkloadDifference {
  field: string;
  /** One value per run, in the runs' order. */
  values: string[];
}

/**
 * Fields whose values are not the same in every run (a field one run lacks counts as different,
 * except a point's own settings, which only runs that have the point compare).
 */
export function workloadDifferences(workloads: readonly Workload[]): WorkloadDifference[] {
  const fields = [...new Set(workloads.flatMap((w) => Object.keys(w)))];
  return fields
    .map((field) => ({ field, values: workloads.map((w) => w[field] ?? ABSENT) }))
    .filter((d) => new Set(d.field.startsWith(POINT_PREFIX) ? d.values.filter((v) => v !== ABSENT) : d.values).size > 1);
}

const ABSENT = "(absent)";
