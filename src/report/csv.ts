import { EXTRA_COLUMNS, isIntegerColumn, isPercentileColumn, SEED_COLUMNS, type Row } from "./seed-columns.ts";

export const CSV_COLUMNS: readonly string[] = [...SEED_COLUMNS, ...EXTRA_COLUMNS];

/** The fixed columns, then the chosen percentiles the row carries (`p95_ttft`, …). */
export function columnsOf(row: Row | undefined): readonly string[] {
  const chosen = row ? Object.keys(row).filter(isPercentileColumn) : [];
  return chosen.length > 0 ? [...CSV_COLUMNS, ...chosen] : CSV_COLUMNS;
}

/** Counts as integers, every other number with three decimals as the seed wrote them; empty for unknown. */
export function formatCell(column: string, value: string | number | null | undefined): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "number") return isIntegerColumn(column) ? String(value) : value.toFixed(3);
  return /[",\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

export function csvHeader(columns: readonly string[] = CSV_COLUMNS): string {
  return columns.join(",") + "\n";
}

export function csvLine(row: Row, columns: readonly string[] = CSV_COLUMNS): string {
  return columns.map((column) => formatCell(column, row[column])).join(",") + "\n";
}
