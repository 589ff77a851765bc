import { EXTRA_COLUMNS, isPercentileColumn, SEED_COLUMNS, type Row } from "./seed-columns.ts";

export const CSV_COLUMNS: readonly string[] = [...SEED_COLUMNS, ...EXTRA_COLUMNS];

/** The fixed columns, then the chosen percentiles the row carries (`p95_ttft`, …). */
export function columnsOf(row: Row | undefined): readonly string[] {
  const chosen = row ? Object.keys(row).filter(isPercentileColumn) : [];
  return chosen.length > 0 ? [...CSV_COLUMNS, ...chosen] : CSV_COLUMNS;
}

const COUNT_COLUMNS = new Set([
  "tp", "num_clients", "completed", "total_inlen", "total_outlen", "max_inlen", "max_outlen",
  "failed", "server_total_inlen", "short_outputs", "max_concurrency", "isl", "osl",
]);

/** Counts as integers, every other number with three decimals as the seed wrote them; empty for unknown. */
export function formatCell(column: string, value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return COUNT_COLUMNS.has(column) ? String(value) : value.toFixed(3);
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvHeader(columns: readonly string[] = CSV_COLUMNS): string {
  return columns.join(",") + "\n";
}

export function csvLine(row: Row, columns: readonly string[] = CSV_COLUMNS): string {
  return columns.map((column) => formatCell(column, row[column])).join(",") + "\n";
}
