import pc from "picocolors";
import type { PointOutcome } from "../archive/sweep-summary.ts";
import type { SweepPoint } from "../config/bench-config.ts";
import { cell, formatTable } from "./text-table.ts";

/** "4 clients" / "2.5 req/s": how a point is named on the console. */
export function describePoint(point: SweepPoint): string {
  return point.kind === "clients" ? `${point.clients} client${point.clients === 1 ? "" : "s"}` : `${point.rate} req/s`;
}

/** One line when a point is over: how many requests, throughput, the main latencies. */
export function formatPointLine(outcome: PointOutcome): string {
  const s = outcome.summary;
  if (!s) return pc.yellow(`      not run: ${outcome.reason}`);
  const failed = s.failed > 0 ? pc.red(`${s.failed} failed`) : "0 failed";
  const line =
    `      ${s.requests} requests, ${s.completed} ok, ${failed}   qps ${cell(s.qps, 2)}   out ${cell(s.o_tps)} tok/s` +
    `   TTFT ${cell(s.ttft?.mean)} ms   TPOT ${cell(s.tpot?.mean, 2)} ms   ITL ${cell(s.itl?.mean, 2)} ms`;
  return outcome.status === "cut short" ? `${line}\n${pc.yellow(`      cut short: ${outcome.reason}`)}` : line;
}

/** The table printed at the end of a sweep: every point, run or not. */
export function formatSweepTable(outcomes: readonly PointOutcome[]): string {
  const rows = [["point", "status", "ok", "failed", "qps", "out tok/s", "TTFT mean", "TTFT p99", "TPOT mean", "ITL mean", "E2E mean"]];
  for (const outcome of outcomes) {
    const s = outcome.summary;
    rows.push([
      describePoint(outcome.point),
      outcome.status,
      s ? String(s.completed) : "—",
      s ? String(s.failed) : "—",
      cell(s?.qps, 2),
      cell(s?.o_tps),
      cell(s?.ttft?.mean),
      cell(s?.ttft?.p99),
      cell(s?.tpot?.mean, 2),
      cell(s?.itl?.mean, 2),
      cell(s?.e2e?.mean, 0),
    ]);
  }
  const [header, ...body] = formatTable(rows, "llrrrrrrrrr");
  return [pc.dim(header!), ...body].join("\n") + pc.dim("\n  (times in ms)");
}
