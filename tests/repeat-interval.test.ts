import { describe, expect, test } from "bun:test";
import { meanInterval, repeatIntervals, tCritical95, withinNoise } from "../src/metrics/repeat-interval.ts";

describe("95 % confidence intervals over repeated runs", () => {
  test("mean ± t(n−1) × s / √n, by hand", () => {
    // values 10, 12, 14: mean 12, s = 2, t(2) = 4.303, half width 4.303 × 2 / √3 = 4.9687
    const interval = meanInterval([10, 12, 14])!;
    expect(interval.mean).toBe(12);
    expect(interval.std).toBeCloseTo(2, 12);
    expect(interval.half_width).toBeCloseTo((4.303 * 2) / Math.sqrt(3), 10);
    expect(interval.low).toBeCloseTo(12 - 4.9687, 3);
    expect(interval.high).toBeCloseTo(12 + 4.9687, 3);
    // two runs 1, 3: mean 2, s = √2, t(1) = 12.706, half width 12.706 × √2 / √2 = 12.706
    expect(meanInterval([1, 3])!.half_width).toBeCloseTo(12.706, 10);
    expect(meanInterval([5])).toBeNull();
    expect(meanInterval([7, 7, 7])!.half_width).toBe(0);
  });

  test("critical values: the table, then the normal's 1.96", () => {
    expect(tCritical95(1)).toBe(12.706);
    expect(tCritical95(4)).toBe(2.776);
    expect(tCritical95(30)).toBe(2.042);
    expect(tCritical95(200)).toBe(1.96);
    expect(() => tCritical95(0)).toThrow();
  });

  test("per metric over rows; overlapping intervals are within noise", () => {
    const intervals = repeatIntervals([{ mean_ttft: 50, qps: 2 }, { mean_ttft: 52, qps: null }, { mean_ttft: 54, qps: 4 }]);
    expect(intervals.mean_ttft!.mean).toBe(52);
    expect(intervals.qps!.values).toEqual([2, 4]);
    expect(intervals.p99_e2e).toBeNull();
    expect(withinNoise(meanInterval([10, 11, 12])!, meanInterval([11.5, 12.5, 13.5])!)).toBe(true);
    expect(withinNoise(meanInterval([10, 10.1, 10.2])!, meanInterval([20, 20.1, 20.2])!)).toBe(false);
  });
});
