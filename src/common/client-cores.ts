/**
 * How many cores this process may use: the CPUs it may run on (affinity, as taskset or a
 * container's cpuset sets it) and, in a container with a CPU limit (a Kubernetes pod's
 * `resources.limits.cpu`), no more than the limit allows — rounded down, at least one.
 */
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";

/** Cores a cgroup v2 `cpu.max` line ("max 100000", "250000 100000") allows; null when unlimited or unreadable. */
export function coresFromCpuMax(text: string): number | null {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === "max") return null;
  const allowed = Number(quota) / Number(period ?? 100000);
  return Number.isFinite(allowed) && allowed > 0 ? Math.max(1, Math.floor(allowed)) : null;
}

function cgroupLimit(): number | null {
  try {
    return coresFromCpuMax(readFileSync("/sys/fs/cgroup/cpu.max", "utf8"));
  } catch {
    return null;
  }
}

export function clientCores(): number {
  const limit = cgroupLimit();
  return limit === null ? availableParallelism() : Math.min(availableParallelism(), limit);
}
