/** Rows of cells as aligned columns; `align` has one letter per column, l or r . */
export function formatTable(rows: readonly (readonly string[])[], align: string, indent = "  "): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column] ?? 0, visibleLength(cell))));
  const pad = (cell: string, column: number) => (align[column] === "l" ? padEnd(cell, widths[column]!) : padStart(cell, widths[column]!));
  return rows.map((row) => indent + row.map(pad).join("  ").trimEnd());
}

// Cells may carry terminal colours, which take no room on screen.
function visibleLength(text: string): number {
  return text.replace(/\x1b\[[0-9;]*m/g, "").length;
}

function padEnd(text: string, width: number): string {
  return text + " ".repeat(Math.max(0, width - visibleLength(text)));
}

function padStart(text: string, width: number): string {
  return " ".repeat(Math.max(0, width - visibleLength(text))) + text;
}

/** A number for a table: fixed decimals, or "—" when there is none. */
export function cell(value: unknown, digits = 1): string {
  return typeof value === "number" && Number.isFinite(value) ? value.toFixed(digits) : "—";
}
