/**
 * Reading the Prometheus text exposition format: one `name{labels} value [timestamp]` per line,
 * `#` lines for help and types. Samples of one name with different labels are summed (vLLM labels
 * its gauges per model and engine).
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const rawLine of text.split("\n")) {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) continue;
    const labelsAt = line.indexOf("{");
    const nameEnd = labelsAt === -1 ? line.search(/\s/) : labelsAt;
    if (nameEnd <= 0) continue;
    const name = line.slice(0, nameEnd);
    const labelsEnd = labelsAt === -1 ? nameEnd : closingBrace(line, labelsAt);
    if (labelsEnd === -1) continue;
    const rest = line.slice(labelsAt === -1 ? nameEnd : labelsEnd + 1);
    const value = Number(rest.trim().split(/\s+/)[0]);
    if (!Number.isFinite(value)) continue;
    values.set(name, (values.get(name) ?? 0) + value);
  }
  return values;
}

/** The "}" that closes the label set opened at `open`, skipping label values (quoted, with escapes). */
function closingBrace(line: string, open: number): number {
  let quoted = false;
  for (let i = open + 1; i < line.length; i++) {
    const char = line[i];
    if (quoted && char === "\\") i++;
    else if (char === '"') quoted = !quoted;
    else if (char === "}" && !quoted) return i;
  }
  return -1;
}
