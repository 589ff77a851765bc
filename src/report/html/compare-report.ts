import type { ReportPoint, ReportRun } from "../run-data.ts";
import type { WorkloadDifference } from "../workload.ts";
import { chartGrid, escapeHtml, htmlPage, PALETTE, type ChartSeries, type ChartSpec } from "./page.ts";
import { comparedColumns, presentColumns } from "../metric-views.ts";
import { flatten, latencyMetrics, metricTitle, metricUnit, table, valueCell } from "./sections.ts";
import { wantsLogX, xAxisLabel } from "./run-report.ts";

const num = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);


/** "#1 142501_vllm_llama2-7b (vllm)": how a run is named on the page. */
export function runLabel(run: ReportRun, index: number): string {
  const name = run.name.split("/").pop();
  return `#${index + 1} ${name}${run.identity.backend ? ` (${run.identity.backend})` : ""}`;
}

/** B / A as "1.23×"; "—" where either is missing or A is 0. */
export function ratioText(a: number | null, b: number | null): string {
  if (a === null || b === null || a === 0) return "—";
  return `${(b / a).toFixed(2)}×`;
}

function ran(run: ReportRun): ReportPoint[] {
  return run.points.filter((p) => p.summary);
}

function comparisonCharts(runs: readonly ReportRun[]): ChartSpec[] {
  const xLabel = xAxisLabel(runs[0]!);
  const logX = runs.every((run) => wantsLogX(ran(run).map((p) => p.x)));
  const perRun = (field: string, against: "load" | "throughput", dash = false): ChartSeries[] =>
    runs.map((run, i) => {
      const points = ran(run);
      return {
        label: `${runLabel(run, i)}${dash ? " p99" : ""}`,
        x: points.map((p) => (against === "load" ? p.x : num(p.summary!.o_tps))),
        y: points.map((p) => num(p.summary![field])),
        color: PALETTE[i % PALETTE.length]!,
        dash,
      };
    });
  const charts: ChartSpec[] = [
    { id: "cmp-o_tps", title: "Output tokens/s", xLabel, yLabel: "tokens/s", kind: "line", logX, series: perRun("o_tps", "load") },
    { id: "cmp-qps", title: "Requests/s", xLabel, yLabel: "requests/s", kind: "line", logX, series: perRun("qps", "load") },
  ];
  for (const metric of latencyMetrics(runs.flatMap((run) => ran(run).map((p) => p.summary)))) {
    charts.push({
      id: `cmp-${metric}`,
      title: `${metricTitle(metric)} p50 (solid) and p99 (dashed) against load`,
      xLabel,
      yLabel: metricUnit(metric),
      kind: "line",
      logX,
      series: [...perRun(`median_${metric}`, "load"), ...perRun(`p99_${metric}`, "load", true)],
    });
    charts.push({
      id: `cmp-${metric}-throughput`,
      title: `${metricTitle(metric)} p50 and p99 against throughput`,
      xLabel: "output tokens/s",
      yLabel: metricUnit(metric),
      kind: "line",
      series: [...perRun(`median_${metric}`, "throughput"), ...perRun(`p99_${metric}`, "throughput", true)],
    });
  }
  return charts;
}

/** Per point every run has: the key numbers side by side, and each run's ratio to the first. */
function sideBySide(runs: readonly ReportRun[]): string {
  const keys = ran(runs[0]!).map((p) => p.key).filter((key) => runs.every((run) => ran(run).some((p) => p.key === key)));
  if (keys.length === 0) return `<p class="warn">The runs have no point in common (same client count or rate).</p>`;
  const headers = ["point", "metric", ...runs.flatMap((run, i) => (i === 0 ? [runLabel(run, i)] : [runLabel(run, i), `#${i + 1} / #1`]))];
  const rows: string[] = [];
  for (const key of keys) {
    const points = runs.map((run) => ran(run).find((p) => p.key === key)!);
    const fields = presentColumns(comparedColumns(), points.map((p) => p.summary)).map((c) => c.column);
    fields.forEach((field, row) => {
      const base = num(points[0]!.summary![field]);
      const cells = points.map((p, i) => {
        const value = valueCell(field, p.summary![field], { point: key, run: String(i) });
        return i === 0 ? value : `${value}<td class="muted">${ratioText(base, num(p.summary![field]))}</td>`;
      });
      rows.push(`<tr><td>${row === 0 ? escapeHtml(points[0]!.label) : ""}</td><td style="text-align:left">${escapeHtml(field)}</td>${cells.join("")}</tr>`);
    });
  }
  return table(headers, rows);
}

function runsTable(runs: readonly ReportRun[]): string {
  const wanted = ["backend", "model", "model_size", "tp", "mode", "llmbench", "host.name", "started_at", "status", "server.command", "base_url"];
  const rows = runs.map((run, i) => {
    const flat = Object.fromEntries(flatten(run.identity));
    return `<tr><td>${escapeHtml(runLabel(run, i))}</td>${wanted.map((k) => `<td style="text-align:left">${escapeHtml(flat[k] ?? "")}</td>`).join("")}<td style="text-align:left">${escapeHtml(run.dir)}</td></tr>`;
  });
  return table(["run", ...wanted, "folder"], rows);
}

/** One page comparing runs on the same axes, each run a series. */
export function renderComparison(runs: readonly ReportRun[], differences: readonly WorkloadDifference[]): string {
  const title = `llmbench comparison — ${runs.length} runs`;
  const charts = comparisonCharts(runs);
  const warning =
    differences.length === 0
      ? `<p class="muted">Same workload in every run (dataset, lengths, budget, duration, seed).</p>`
      : `<p class="warn">These runs' workloads differ (compared with --allow-different):</p>` +
        table(["field", ...runs.map((run, i) => runLabel(run, i))], differences.map((d) => `<tr><td>${escapeHtml(d.field)}</td>${d.values.map((v) => `<td style="text-align:left">${escapeHtml(v)}</td>`).join("")}</tr>`));
  const body = [
    `<h1>${escapeHtml(title)}</h1>`,
    `<section id="runs"><h2>Runs</h2>${runsTable(runs)}${warning}</section>`,
    `<section id="curves"><h2>Curves</h2>${chartGrid(charts)}</section>`,
    `<section id="numbers"><h2>Side by side</h2>${sideBySide(runs)}<p class="note">Times in ms, as in summary.csv; ratios are each run's number over run #1's.</p></section>`,
  ].join("\n");
  return htmlPage(title, body, charts);
}
