/** report.html's capacity-search section: the answer, every probed point with pass or fail, and the SLO metrics against the load. */
import { parseSlo } from "../../sweep/slo.ts";
import type { ReportRun, SearchReport } from "../run-data.ts";
import { chartGrid, escapeHtml, PALETTE, type ChartSeries, type ChartSpec } from "./page.ts";

const PASS_COLOR = PALETTE[2]!;
const FAIL_COLOR = PALETTE[1]!;
const BOUND_COLOR = PALETTE[7]!;
import { table } from "./sections.ts";

const unitOf = (axis: string) => (axis === "rate" ? "req/s" : "clients");

function formatNumber(value: unknown): string {
  if (typeof value !== "number" || !Number.isFinite(value)) return "—";
  return Number.isInteger(value) ? String(value) : value.toFixed(3);
}

/** Per latency of the SLO (ms), one chart: its measured value at each probed load, passing and failing apart, and its bound. */
export function searchCharts(search: SearchReport, xLabel: string): ChartSpec[] {
  const terms = parseSlo(search.slo);
  if (typeof terms === "string") return [];
  const xs = search.points.map((p) => p.value);
  const low = Math.min(...xs);
  const high = Math.max(...xs);
  return terms
    .filter((term) => /_(ttft|tpot|itl|e2e)$/.test(term.metric))
    .map((term): ChartSpec => {
      const series: ChartSeries[] = [];
      for (const pass of [true, false]) {
        const y = search.points.map((p) => (p.pass === pass && typeof p.metrics[term.metric] === "number" ? (p.metrics[term.metric] as number) : null));
        if (y.some((v) => v !== null)) series.push({ label: pass ? "passed" : "failed", x: xs, y, color: pass ? PASS_COLOR : FAIL_COLOR });
      }
      series.push({ label: `${term.metric} ${term.op} ${term.bound}`, x: low === high ? [low] : [low, high], y: low === high ? [term.bound] : [term.bound, term.bound], color: BOUND_COLOR, dash: true });
      return { id: `search-${term.metric}`, title: `${term.metric} at each probed load, against its bound`, xLabel, yLabel: "ms", kind: "points", series };
    });
}

/** The section, with its charts; null when the run was no capacity search. */
export function searchSection(run: ReportRun, xLabel: string): { html: string; charts: ChartSpec[] } | null {
  const search = run.search;
  if (!search) return null;
  const unit = unitOf(search.axis);
  const answer =
    search.best === null
      ? `<p class="bad" id="search-best">No probed ${unit === "clients" ? "client count" : "rate"} met the SLO ${escapeHtml(search.slo)}.</p>`
      : `<p id="search-best"><strong>${escapeHtml(formatNumber(search.best))} ${unit}</strong> is the most that met every SLO (${escapeHtml(search.slo)}${search.min_goodput_ratio === null ? "" : `, goodput ratio ≥ ${search.min_goodput_ratio}`})` +
        `${search.firstFail === null ? "" : `; ${escapeHtml(formatNumber(search.firstFail))} ${unit} failed`}; resolution ${escapeHtml(formatNumber(search.resolution))}.</p>`;
  const note = search.note ? `<p class="note">${escapeHtml(search.note)}</p>` : "";
  const metricNames = [...new Set(search.points.flatMap((p) => Object.keys(p.metrics)))];
  const rows = search.points.map((p, i) => {
    const verdict = p.pass ? `<span class="good">pass</span>` : `<span class="bad">fail</span>`;
    const metrics = metricNames.map((name) => `<td>${escapeHtml(formatNumber(p.metrics[name]))}</td>`).join("");
    const folder = p.folder ? escapeHtml(p.folder) : "";
    return `<tr data-probe="${i}" data-value="${escapeHtml(String(p.value))}" data-pass="${p.pass}"><td>${i + 1}</td><td>${escapeHtml(formatNumber(p.value))}</td><td style="text-align:left">${escapeHtml(p.phase)}</td><td>${p.run}</td><td style="text-align:left">${verdict}</td><td style="text-align:left">${escapeHtml(p.failed.join("; "))}</td>${metrics}<td style="text-align:left">${folder}</td></tr>`;
  });
  const charts = searchCharts(search, xLabel);
  const probes = table(["#", unit, "phase", "run", "result", "missed", ...metricNames, "folder"], rows);
  const grid = chartGrid(charts);
  return {
    html: `<section id="search"><h2>Capacity search</h2>${answer}${note}${grid}<h3>Probed points</h3>${probes}</section>`,
    charts,
  };
}
