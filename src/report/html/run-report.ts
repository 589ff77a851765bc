import type { ReportPoint, ReportRun } from "../run-data.ts";
import { chartGrid, escapeHtml, htmlPage, PALETTE, type ChartSeries, type ChartSpec } from "./page.ts";
import { keyColumns, presentColumns } from "../metric-views.ts";
import { allColumnsTable, distributionTable, failuresTable, flatten, keyValueTable, latencyMetrics, metricTitle, metricUnit, perTurnTable, table, valueCell } from "./sections.ts";
import { searchSection } from "./search-section.ts";

const PERCENTILES = [
  { stat: "median", label: "p50" },
  { stat: "p90", label: "p90" },
  { stat: "p99", label: "p99" },
] as const;

const num = (value: unknown): number | null => (typeof value === "number" && Number.isFinite(value) ? value : null);

export function xAxisLabel(run: Pick<ReportRun, "xAxis">): string {
  return run.xAxis === "rate" ? "request rate (req/s)" : "clients";
}

/** A log x axis when the points span a decade or more (1, 4, 16, 64 clients). */
export function wantsLogX(xs: readonly (number | null)[]): boolean {
  const values = xs.filter((x): x is number => x !== null && x > 0);
  return values.length > 2 && values.length === xs.length && Math.max(...values) / Math.min(...values) >= 10;
}

/** The sweep as curves: throughput, and each latency's p50/p90/p99, against the load and against throughput. */
function sweepCharts(run: ReportRun, points: readonly ReportPoint[]): ChartSpec[] {
  const xs = points.map((p) => p.x);
  const logX = wantsLogX(xs);
  const field = (name: string) => points.map((p) => num(p.summary![name]));
  const xLabel = xAxisLabel(run);
  const charts: ChartSpec[] = [
    {
      id: "sweep-throughput",
      title: "Throughput",
      xLabel,
      yLabel: "output tokens/s",
      y2Label: "requests/s",
      kind: "line",
      logX,
      series: [
        { label: "output tok/s", x: xs, y: field("o_tps"), color: PALETTE[0]! },
        { label: "requests/s", x: xs, y: field("qps"), color: PALETTE[1]!, axis: "right" },
        ...(field("goodput").some((v) => v !== null) ? [{ label: "goodput req/s", x: xs, y: field("goodput"), color: PALETTE[2]!, axis: "right" as const }] : []),
      ],
    },
  ];
  const oTps = field("o_tps");
  for (const metric of latencyMetrics(points.map((p) => p.summary))) {
    const percentiles = (x: (number | null)[]): ChartSeries[] =>
      PERCENTILES.map((p, i) => ({ label: `${p.label}`, x, y: field(`${p.stat}_${metric}`), color: PALETTE[i]!, dash: p.label !== "p50" }));
    const yLabel = metricUnit(metric);
    charts.push({ id: `sweep-${metric}`, title: `${metricTitle(metric)} against load`, xLabel, yLabel, kind: "line", logX, series: percentiles(xs) });
    charts.push({ id: `sweep-${metric}-throughput`, title: `${metricTitle(metric)} against throughput`, xLabel: "output tokens/s", yLabel, kind: "line", series: percentiles(oTps) });
  }
  return charts;
}

/** The registry's key numbers, one row per point. */
function keyTable(points: readonly ReportPoint[]): string {
  const fields = presentColumns(keyColumns(), points.map((p) => p.summary)).map((c) => c.column);
  const rows = points.map((p) => {
    const status = p.status === "done" ? "done" : `<span class="${p.status === "not run" ? "warn" : "bad"}">${escapeHtml(p.status)}${p.reason ? `: ${escapeHtml(p.reason)}` : ""}</span>`;
    const cells = p.summary ? fields.map((f) => valueCell(f, p.summary![f], { point: p.key })).join("") : fields.map(() => "<td>—</td>").join("");
    return `<tr><td><a href="#point-${escapeHtml(p.key)}">${escapeHtml(p.label)}</a></td><td style="text-align:left">${status}</td>${cells}</tr>`;
  });
  return table(["point", "status", ...fields], rows);
}

/** Distributions, the timeline with the steady window, the server's gauges: one point's charts. */
function pointCharts(point: ReportPoint, index: number): ChartSpec[] {
  const plots = point.plots;
  if (!plots) return [];
  const charts: ChartSpec[] = [];
  const id = `p${index}`;
  const line = plots.timeline;
  const spanS = line ? (line.endMs - line.startMs) / 1000 : null;
  const xRange: [number, number] | undefined = spanS === null ? undefined : [0, Math.max(spanS, 1e-3)];
  if (line) {
    const band = plots.steadyWindowS ?? undefined;
    const marks = band ? [{ x: band[0], label: "ramp-up end" }, { x: band[1], label: "stop" }] : undefined;
    charts.push({
      id: `${id}-timeline`,
      title: `In flight and tokens/s over the point (${line.bucketMs} ms buckets${band ? ", steady-state window shaded" : ""})`,
      xLabel: "s since the first send",
      yLabel: "requests in flight",
      y2Label: "output tokens/s",
      kind: "line",
      series: [
        { label: "in flight", x: line.t, y: line.inFlight, color: PALETTE[0]! },
        { label: "output tok/s", x: line.t, y: line.tokensPerS, color: PALETTE[2]!, axis: "right" },
      ],
      marks,
      band,
      xRange,
    });
    if (line.ttftMs.some((v) => v !== null)) {
      charts.push({
        id: `${id}-timeline-ttft`,
        title: "TTFT over the point (mean of the requests whose first token came in each bucket)",
        xLabel: "s since the first send",
        yLabel: "TTFT ms",
        kind: "points",
        series: [{ label: "TTFT", x: line.t, y: line.ttftMs, color: PALETTE[1]! }],
        marks,
        band,
        xRange,
      });
    }
  }
  for (const [metric, h] of Object.entries(plots.histograms)) {
    if (h.counts.length === 0) continue;
    charts.push({
      id: `${id}-hist-${metric}`,
      title: `${metricTitle(metric)} distribution`,
      xLabel: `${metricTitle(metric)} ${metricUnit(metric)}`,
      yLabel: h.per === "token" ? "tokens" : "requests",
      kind: "bars",
      height: 220,
      xRange: [h.edges[0]!, h.edges[h.edges.length - 1]! + h.width],
      series: [{ label: metricTitle(metric), x: h.edges.map((e) => e + h.width / 2), y: h.counts, color: PALETTE[3]! }],
    });
  }
  const gauges = plots.gauges;
  if (gauges) {
    const names = Object.keys(gauges.values);
    const percent = names.filter((n) => /usage|perc/.test(n));
    charts.push({
      id: `${id}-gauges`,
      title: "The server's gauges (its /metrics)",
      xLabel: "s since the first send",
      yLabel: "requests",
      y2Label: percent.length ? "fraction" : undefined,
      kind: "line",
      xRange: xRange ? [Math.min(0, gauges.t[0]!), Math.max(xRange[1], gauges.t[gauges.t.length - 1]!)] : undefined,
      series: names.map((name, i) => ({ label: name, x: gauges.t, y: gauges.values[name]!, color: PALETTE[i % PALETTE.length]!, axis: percent.includes(name) ? ("right" as const) : ("left" as const) })),
    });
  }
  return charts;
}

function identitySection(run: ReportRun): string {
  const entries = flatten(run.identity);
  const settings = run.settings ? `<details open><summary>Resolved settings (config.resolved.json)</summary><pre>${escapeHtml(JSON.stringify(run.settings, null, 2))}</pre></details>` : "";
  return `<section id="identity"><h2>Run</h2>${keyValueTable(entries)}${settings}</section>`;
}

/** The report of one run folder: a sweep's points, or `llmbench run`'s one point. */
export function renderRunReport(run: ReportRun): string {
  const ran = run.points.filter((p) => p.summary);
  const charts: ChartSpec[] = [];
  const sections: string[] = [];
  const title = `llmbench ${run.kind} — ${run.name}`;
  const backend = run.identity.backend ?? "";
  const model = run.identity.model ?? "";
  sections.push(`<h1>${escapeHtml(title)}</h1><p class="muted">${escapeHtml([backend, model].filter(Boolean).join(", "))}${run.identity.status ? ` — ${escapeHtml(run.identity.status)}` : ""}</p>`);
  const search = searchSection(run, xAxisLabel(run));
  sections.push(`<nav>${["Summary", ...(search ? ["Search"] : []), ...(ran.length > 1 ? ["Sweep"] : []), "Points", "Run"].map((s) => `<a href="#${s.toLowerCase()}">${s}</a>`).join("")}</nav>`);
  sections.push(`<section id="summary"><h2>Summary</h2>${keyTable(run.points)}<p class="note">Times in ms, as in summary.csv.</p></section>`);
  if (search) {
    charts.push(...search.charts);
    sections.push(search.html);
  }
  if (ran.length > 1) {
    const sweep = sweepCharts(run, ran);
    charts.push(...sweep);
    sections.push(`<section id="sweep"><h2>Sweep</h2>${chartGrid(sweep)}<h3>Every column</h3>${allColumnsTable(ran)}</section>`);
  }
  sections.push(`<div id="points"></div>`);
  run.points.forEach((point, index) => {
    if (!point.summary) {
      sections.push(`<section class="point-section" id="point-${escapeHtml(point.key)}"><h2>${escapeHtml(point.label)}</h2><p class="warn">not run${point.reason ? `: ${escapeHtml(point.reason)}` : ""}</p></section>`);
      return;
    }
    const pc = pointCharts(point, index);
    charts.push(...pc);
    const status = point.status === "done" ? "" : `<p class="bad">${escapeHtml(point.status)}${point.reason ? `: ${escapeHtml(point.reason)}` : ""}</p>`;
    const gauges = point.summary.server_gauges as { status?: string } | undefined;
    const gaugeNote = gauges?.status && gauges.status !== "sampled" ? `<p class="note">Server gauges: ${escapeHtml(gauges.status)}</p>` : "";
    const slo = point.summary.goodput_slo_ms as Record<string, number> | undefined;
    const sloNote = slo ? `<p class="note">Goodput objectives: ${escapeHtml(Object.entries(slo).map(([k, v]) => `${k} ≤ ${v} ms`).join(", "))}</p>` : "";
    sections.push(
      `<section class="point-section" id="point-${escapeHtml(point.key)}"><h2>${escapeHtml(point.label)}</h2>${status}` +
        distributionTable(point) +
        sloNote +
        chartGrid(pc) +
        gaugeNote +
        perTurnTable(point) +
        `<h3>Failures</h3>${failuresTable(point)}` +
        (ran.length === 1 ? `<h3>Every column</h3>${allColumnsTable([point])}` : "") +
        `</section>`,
    );
  });
  sections.push(identitySection(run));
  return htmlPage(title, sections.join("\n"), charts);
}
