/**
 * The metric registry writes exactly what the writers before it wrote: the same CSV columns in
 * the same order, the same cells, the same summary.json keys and values, the same history
 * columns. The oracle is main's code before the registry, frozen in tests/helpers/legacy-columns.ts;
 * both are fed the same records (seeded random ones: failures, thinking, multi-token events,
 * queue waits, server counts, goodput and gauges given or not, chosen percentiles or not).
 */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { RunHistory } from "../src/archive/history.ts";
import { writeSummaryFiles } from "../src/archive/result-files.ts";
import { SWEEP_CSV_COLUMNS } from "../src/archive/sweep-summary.ts";
import { seededRandom } from "../src/dataset/prng.ts";
import type { GoodputSlo } from "../src/metrics/goodput.ts";
import { statsOf } from "../src/metrics/request-stats.ts";
import type { GaugeStats } from "../src/metrics/server-gauges.ts";
import type { RequestRecord } from "../src/records/record.ts";
import { columnsOf, CSV_COLUMNS, formatCell } from "../src/report/csv.ts";
import { REPEATED_METRICS } from "../src/metrics/repeat-interval.ts";
import { SEED_COLUMNS } from "../src/report/seed-columns.ts";
import { summarizePoint, summaryObject, type SummaryInputs } from "../src/runner/point-summary.ts";
import {
  LEGACY_CSV_COLUMNS, LEGACY_HISTORY_METRICS, LEGACY_SEED_COLUMNS, legacyCsv, legacyFormatCell, legacySummaryObject, legacySummaryRow,
} from "./helpers/legacy-columns.ts";

/** The header of the seed's CSVs (shared/reference-results/*.csv), as they are. */
const SEED_HEADER =
  "model_size(B),tp,num_clients,mode,completed,success_rate,qps,total_inlen,total_outlen,avg_inlen,avg_outlen,max_inlen,max_outlen,o_tps,io_tps," +
  "min_ttft,max_ttft,mean_ttft,median_ttft,std_ttft,p90_ttft,p99_ttft,min_tpot,max_tpot,mean_tpot,median_tpot,std_tpot,p90_tpot,p99_tpot," +
  "min_e2e,max_e2e,mean_e2e,median_e2e,std_e2e,p90_e2e,p99_e2e,min_itl,max_itl,mean_itl,median_itl,std_itl,p90_itl,p99_itl";

/** A seeded mix of requests: ok and failed, thinking or not, one or many tokens per event. */
export function randomRecords(seed: number, count: number): RequestRecord[] {
  const random = seededRandom(seed, 12);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const records: RequestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const sent = random() > 0.05;
    const failed = !sent || random() < 0.15;
    const thinks = seed % 3 === 0 && random() < 0.7;
    const events: Array<[number, number]> = [];
    let at = 5 + random() * 300;
    const tokens = failed && random() < 0.5 ? 0 : int(1, 40);
    let out = 0;
    while (out < tokens) {
      const n = Math.min(tokens - out, random() < 0.2 ? int(2, 4) : 1);
      events.push([at, n]);
      out += n;
      at += 1 + random() * 30;
    }
    const reasoning = thinks ? Math.min(out, int(0, out)) : 0;
    const firstAnswer = thinks ? (reasoning < out ? events[Math.min(events.length - 1, Math.floor(events.length / 2))]![0] : null) : (events[0]?.[0] ?? null);
    records.push({
      user: i % 7, seq: i, conversation: `${i % 7}.${i}`, turn: seed % 2 === 0 ? i % 3 : 0, prompt_index: i, sent, send_ms: 1_000_000 + i * (1 + random() * 40),
      reconnected: false, queue_wait_ms: random() < 0.3 ? random() * 50 : 0, status: failed ? "failed" : "ok",
      error: failed ? (sent ? ["HTTP 500: boom", "timeout after 10 s", "stream cut"][int(0, 2)]! : "not sent: stopped") : null,
      in_tokens: int(5, 900), server_in_tokens: seed % 4 === 1 ? int(5, 900) : null, out_tokens: out, asked_out_tokens: out + (random() < 0.1 ? 3 : 0),
      short: random() < 0.1, ttft_ms: events[0]?.[0] ?? null, e2e_ms: events.at(-1)?.[0] ?? null, done_ms: at + 1, events, finish_reason: "stop",
      ttft_content_ms: firstAnswer, reasoning_tokens: reasoning, answer_tokens: out - reasoning, thinking_ms: thinks && reasoning > 0 ? random() * 100 : null,
    });
  }
  return records;
}

interface Case {
  seed: number;
  count: number;
  percentiles?: number[];
  goodput: GoodputSlo | null;
  gauges: Record<string, GaugeStats>;
  requestRate?: number | null;
}

const GAUGES: Record<string, GaugeStats> = {
  running: { mean: 3.5, min: 0, max: 8, samples: 20 },
  waiting: { mean: 0.25, min: 0, max: 2, samples: 20 },
  kv_cache_usage: { mean: 0.4125, min: 0.1, max: 0.77, samples: 20 },
};

const CASES: Case[] = [];
for (let seed = 1; seed <= 24; seed++) {
  CASES.push({
    seed,
    count: seed === 5 ? 0 : seed === 6 ? 1 : 10 + seed * 7,
    percentiles: seed % 3 === 1 ? [50, 95, 99.9] : seed % 3 === 2 ? [25, 99] : undefined,
    goodput: seed % 2 === 0 ? { ttft: 150, tpot: 15 } : null,
    gauges: seed % 4 < 2 ? GAUGES : seed % 4 === 2 ? { running: GAUGES.running! } : {},
    requestRate: seed % 5 === 0 ? 2.5 : seed % 5 === 1 ? Infinity : null,
  });
}

function inputsOf(c: Case): SummaryInputs {
  return {
    labels: { modelSize: "7", tp: 2, numClients: c.requestRate === null || c.requestRate === undefined ? 4 : "", mode: "fp16", requestRate: c.requestRate },
    goodput: c.goodput,
    steadyWindowMs: [1_000_100, 1_003_000],
    gauges: c.gauges,
    percentiles: c.percentiles,
  };
}

describe("the registry writes what the writers before it wrote", () => {
  test("the seed's 43 columns first, in the seed's order, then llmbench's, unchanged", () => {
    expect(SEED_COLUMNS.join(",")).toBe(SEED_HEADER);
    expect([...SEED_COLUMNS]).toEqual([...LEGACY_SEED_COLUMNS]);
    expect([...CSV_COLUMNS]).toEqual([...LEGACY_CSV_COLUMNS]);
    expect([...SWEEP_CSV_COLUMNS]).toEqual([...LEGACY_CSV_COLUMNS, "point_status"]);
    // repeats.json (run --num-runs): the same metrics in the same order
    expect([...REPEATED_METRICS]).toEqual([
      "qps", "o_tps", "success_rate", "mean_ttft", "median_ttft", "p99_ttft", "mean_tpot", "median_tpot", "p99_tpot", "mean_itl", "p99_itl", "mean_e2e", "p99_e2e",
      "prefix_cache_hit_rate",
    ]);
  });

  test("each cell is formatted as before (counts as integers, the rest with three decimals)", () => {
    for (const column of [...LEGACY_CSV_COLUMNS, "p95_ttft", "p99.9_itl", "requests", "unknown_thing"]) {
      for (const value of [0, 3, 2.5, 1234.56789, null, "inf", "a,b"]) expect(formatCell(column, value)).toBe(legacyFormatCell(column, value));
    }
  });

  test.each(CASES.map((c) => [c.seed, c] as const))("seed %d: the same row, CSV file and summary.json", (_seed, c) => {
    const records = randomRecords(c.seed, c.count);
    const stats = records.map(statsOf);
    const inputs = inputsOf(c);
    const point = summarizePoint(stats, inputs);
    const legacyRow = legacySummaryRow(point.summary, inputs.labels, point.goodput, inputs.gauges);
    // same keys in the same order, same values
    expect(Object.keys(point.row)).toEqual(Object.keys(legacyRow));
    expect(JSON.stringify(point.row)).toBe(JSON.stringify(legacyRow));
    expect([...columnsOf(point.row)]).toEqual([...columnsOf(legacyRow)]);

    const extra = { numTurns: c.seed % 2 === 0 ? 3 : 1, serverGauges: { status: "sampled", gauges: inputs.gauges }, rest: { backend: "vllm", model: "m", interrupted: false } };
    const json = summaryObject(point, inputs, extra);
    const legacyJson = legacySummaryObject({ ...point, row: legacyRow }, inputs, extra);
    expect(JSON.stringify(json)).toBe(JSON.stringify(legacyJson));

    const dir = mkdtempSync(join(tmpdir(), "llmbench-registry-"));
    try {
      writeSummaryFiles(dir, json, [point.row]);
      expect(readFileSync(join(dir, "summary.csv"), "utf8")).toBe(legacyCsv([legacyRow]));
      expect(readFileSync(join(dir, "summary.json"), "utf8")).toBe(JSON.stringify(legacyJson, null, 2) + "\n");

      // the history keeps every metric it kept, with the row's values
      const history = RunHistory.open(dir, { create: true })!;
      const id = history.beginRun({
        name: "2025-01-01/120000_vllm_m", dir, started_at: "2025-01-01T12:00:00.000Z", backend: "vllm", model: "m", model_size: 7, tp: 2, mode: "fp16",
        dataset: "d.json", points_planned: 1, llmbench_version: "test", host: "h", pid: null, pid_start: null,
      });
      history.recordPoint(id, { index: 0, point: { kind: "clients", clients: 4, rampUpS: 0 }, key: "clients=4", folder: "01", status: "done", reason: null, row: point.row, summary: point.summary });
      const [stored] = history.pointsOf(id);
      history.close();
      for (const metric of LEGACY_HISTORY_METRICS) {
        const value = legacyRow[metric];
        expect([metric, stored![metric as keyof typeof stored] ?? null]).toEqual([metric, typeof value === "number" ? value : null]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
