import type { Row } from "./seed-columns.ts";

/** A pass/fail objective on one summary metric, as k6 writes them: `p99_ttft<2000`. */
export interface Threshold {
  expression: string;
  /** A summary.csv column (times in ms). */
  metric: string;
  operator: "<" | "<=" | ">" | ">=" | "==";
  limit: number;
}

export interface ThresholdResult {
  threshold: string;
  /** The point's value; null when it was not measured (which fails). */
  value: number | null;
  ok: boolean;
}

const COMPARE: Record<Threshold["operator"], (a: number, b: number) => boolean> = {
  "<": (a, b) => a < b,
  "<=": (a, b) => a <= b,
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "==": (a, b) => a === b,
};

/** Each threshold against a point's summary row. */
export function checkThresholds(thresholds: readonly Threshold[], row: Row): ThresholdResult[] {
  return thresholds.map((threshold) => {
    const cell = row[threshold.metric];
    const value = typeof cell === "number" && Number.isFinite(cell) ? cell : null;
    return { threshold: threshold.expression, value, ok: value !== null && COMPARE[threshold.operator](value, threshold.limit) };
  });
}

/** Console lines: one per threshold, ✓ or ✗ with the value. */
export function formatThresholds(results: readonly ThresholdResult[]): string[] {
  return results.map((result) => {
    const value = result.value === null ? "not measured" : Number(result.value.toFixed(3)).toString();
    return `  threshold  ${result.ok ? "ok    " : "FAILED"} ${result.threshold} (${value})`;
  });
}
