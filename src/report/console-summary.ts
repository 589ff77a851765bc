import pc from "picocolors";
import type { Summary } from "../metrics/summarize.ts";
import type { Distribution } from "../metrics/stats.ts";

const number = (value: number, digits = 2) => value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const integer = (value: number) => value.toLocaleString("en-US");

/** The readable summary printed at the end of a point. */
export function formatSummary(title: string, summary: Summary): string {
  const lines: string[] = [pc.bold(title)];
  const rate = (summary.success_rate * 100).toFixed(1);
  const failed = summary.failed > 0 ? pc.red(`${summary.failed} failed`) : "0 failed";
  lines.push(`  requests   ${summary.requests} sent, ${summary.completed} completed, ${failed} (success ${rate} %)`);
  lines.push(
    `  duration   ${number(summary.duration_s)} s   qps ${number(summary.qps)}   output ${number(summary.o_tps, 1)} tok/s` +
      `   input+output ${number(summary.io_tps, 1)} tok/s`,
  );
  lines.push(
    `  tokens     in ${integer(summary.total_inlen)} (avg ${number(summary.avg_inlen, 1)}, max ${summary.max_inlen})` +
      `   out ${integer(summary.total_outlen)} (avg ${number(summary.avg_outlen, 1)}, max ${summary.max_outlen})` +
      (summary.tokens_per_event > 1.001 ? pc.yellow(`   ${number(summary.tokens_per_event)} tokens per event: ITL is per chunk share`) : ""),
  );
  if (summary.server_total_inlen !== null) lines.push(`  server-counted input tokens ${integer(summary.server_total_inlen)}`);
  const header = ["", "mean", "median", "p90", "p99", "min", "max", "std"];
  const rows: string[][] = [header];
  const row = (name: string, d: Distribution | null) =>
    rows.push(d ? [name, d.mean, d.median, d.p90, d.p99, d.min, d.max, d.std].map((v) => (typeof v === "number" ? number(v) : v)) : [name, "—"]);
  row("TTFT ms", summary.ttft);
  row("TPOT ms", summary.tpot);
  row("ITL ms", summary.itl);
  row("E2E ms", summary.e2e);
  const widths = header.map((_, column) => Math.max(...rows.map((r) => (r[column] ?? "").length)));
  for (const [index, cells] of rows.entries()) {
    const text = cells.map((cell, column) => (column === 0 ? cell.padEnd(widths[0]!) : cell.padStart(widths[column]!))).join("  ");
    lines.push(`  ${index === 0 ? pc.dim(text) : text}`);
  }
  for (const [reason, count] of Object.entries(summary.failures)) lines.push(pc.red(`  failed × ${count}: ${reason}`));
  return lines.join("\n");
}
