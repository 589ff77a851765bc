/** The console section of a capacity search: every probe with its numbers and what it missed, then the answer. */
import pc from "picocolors";
import type { SearchFile } from "../sweep/search-runner.ts";
import { cell, formatTable } from "./text-table.ts";

export function formatSearchResult(search: SearchFile): string {
  const sloMetrics = search.slo.split(",").map((term) => term.split(/<=|>=/)[0]!);
  const rows = [[search.axis, "run", "phase", "verdict", "ok", "failed", ...sloMetrics, "missed"]];
  for (const point of search.points) {
    rows.push([
      String(point.value),
      String(point.run),
      point.phase,
      point.pass ? pc.green("pass") : pc.red("fail"),
      cell(point.metrics.completed, 0),
      cell(point.metrics.failed, 0),
      ...sloMetrics.map((metric) => cell(point.metrics[metric], 2)),
      point.failed.join("; "),
    ]);
  }
  const [header, ...body] = formatTable(rows, `rlll${"r".repeat(2 + sloMetrics.length)}l`);
  const unit = search.axis === "clients" ? "clients" : "req/s";
  const answer =
    search.best === null
      ? pc.red(`  capacity: no ${search.axis} value met ${search.slo} (${search.note})`)
      : pc.bold(`  capacity: ${search.best} ${unit} meets ${search.slo}`) + pc.dim(` (resolution ${search.resolution}; ${search.note})`);
  return [pc.bold(`  capacity search over ${search.axis}`), pc.dim(header!), ...body, answer].join("\n");
}
