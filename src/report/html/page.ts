import uplotCss from "uplot/dist/uPlot.min.css" with { type: "text" };
import uplotJs from "uplot/dist/uPlot.iife.min.js" with { type: "text" };
import { VERSION } from "../../version.ts";
import clientJs from "./client.js" with { type: "text" };
import styleCss from "./style.css" with { type: "text" };

export interface ChartSeries {
  label: string;
  x: (number | null)[];
  y: (number | null)[];
  color: string;
  dash?: boolean;
  axis?: "left" | "right";
}

/** One chart, drawn in the page by client.js with uPlot. */
export interface ChartSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  y2Label?: string;
  kind: "line" | "bars" | "points";
  logX?: boolean;
  height?: number;
  series: ChartSeries[];
  /** Vertical lines, e.g. the end of the ramp-up. */
  marks?: { x: number; label: string }[];
  /** The x axis's extent, where the data's own would cut bars in half. */
  xRange?: [number, number];
  /** A shaded x range, e.g. the steady-state window. */
  band?: [number, number];
}

export const PALETTE = ["#0969da", "#cf222e", "#1a7f37", "#8250df", "#bc4c00", "#1b7c83", "#bf3989", "#6e7781"];

export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** JSON safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** `<div>` placeholders for charts, laid out in a grid. */
export function chartGrid(charts: readonly ChartSpec[]): string {
  if (charts.length === 0) return "";
  return `<div class="charts">${charts.map((c) => `<div class="chart" id="${escapeHtml(c.id)}"></div>`).join("")}</div>`;
}

/** One self-contained page: styles, uPlot, the data and the drawing script inlined; nothing is fetched. */
export function htmlPage(title: string, body: string, charts: readonly ChartSpec[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="llmbench ${escapeHtml(VERSION)}">
<title>${escapeHtml(title)}</title>
<style>${uplotCss}</style>
<style>${styleCss}</style>
</head>
<body>
${body}
<p class="note">Written by llmbench ${escapeHtml(VERSION)}. Charts drawn with uPlot (MIT), embedded in this file.</p>
<script type="application/json" id="report-data">${scriptJson({ charts })}</script>
<script>${uplotJs.replace(/<\/script/gi, "<\\/script")}</script>
<script>${clientJs}</script>
</body>
</html>
`;
}
