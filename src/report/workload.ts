import { basename } from "node:path";
import type { ReportRun } from "./run-data.ts";

/**
 * What a run asked of the server, as flat comparable fields (one vocabulary for sweeps and
 * `llmbench run` folders): runs compare only when these agree. Paths compare by file name (the
 * same dataset sits in different folders on different hosts); the points themselves (client
 * counts, rates) may differ: runs are matched point by point.
 */
export type Workload = Record<string, string>;

/** Settings of one point ("at clients=4: rampUpS"): compared only between runs that have the point. */
const POINT_PREFIX = "at ";

const NOT_WORKLOAD = new Set(["points", "clients", "rates", "drainTimeoutS", "requestTimeoutS"]);

function text(value: unknown): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "string") return /[/\\]/.test(value) ? basename(value) : value;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function flatInto(into: Workload, prefix: string, value: unknown): void {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    for (const [key, item] of Object.entries(value)) if (!NOT_WORKLOAD.has(key) && item !== undefined) flatInto(into, `${prefix}.${key}`, item);
  } else {
    into[prefix] = text(value);
  }
}

/** Sweep settings (config.resolved.json) under the names `llmbench run` writes in summary.json's workload. */
const SWEEP_NAMES: Record<string, string> = {
  "dataset.path": "dataset",
  "dataset.tokenizer": "tokenizer",
  "dataset.outputLen": "output_len",
  "sweep.numRequests": "num_requests",
  "sweep.stopTimeS": "stop_time_s",
  "sweep.seed": "seed",
  "sweep.turns": "turns",
  rampUpS: "ramp_up_s",
};

/** What a run's numbers depend on beyond the point, from a sweep's config or a run's summary.json, in one vocabulary. */
export function workloadOf(run: ReportRun): Workload {
  const workload: Workload = { load: run.xAxis === "rate" ? "request rate" : "clients" };
  const put = (name: string, value: unknown) => {
    // Unset settings are left out: a run that does not name one is not a different workload.
    if (value !== null && value !== undefined) workload[name] = text(value);
  };
  if (run.settings) {
    const dataset = (run.settings.dataset ?? {}) as Record<string, unknown>;
    const sweep = (run.settings.sweep ?? {}) as Record<string, unknown>;
    const flat: Workload = {};
    flatInto(flat, "dataset", { ...dataset, systemPrompt: undefined });
    flatInto(flat, "sweep", sweep);
    for (const [field, value] of Object.entries(flat)) if (value !== "—") workload[SWEEP_NAMES[field] ?? field] = value;
    const systemPrompt = dataset.systemPrompt as { enabled?: boolean; path?: string | null } | undefined;
    put("system_prompt", systemPrompt?.enabled ? systemPrompt.path : null);
    for (const point of (sweep.points as Record<string, unknown>[] | undefined) ?? []) {
      const key = point.kind === "clients" ? `clients=${point.clients}` : `rate=${point.rate}`;
      for (const [name, value] of Object.entries(point)) {
        if (name !== "kind" && name !== "clients" && name !== "rate") put(`${POINT_PREFIX}${key}: ${SWEEP_NAMES[name] ?? name}`, value);
      }
    }
  } else {
    const point = run.points[0];
    const settings = (point?.summary?.workload ?? {}) as Record<string, unknown>;
    for (const [name, value] of Object.entries(settings)) {
      if (name === "ramp_up_s" && point) put(`${POINT_PREFIX}${point.key}: ramp_up_s`, value);
      else if (value && typeof value === "object") flatInto(workload, name, value);
      else put(name, value);
    }
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
