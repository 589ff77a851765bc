/**
 * For streams whose framing is not documented (amsv2, Triton): every line is one event, whether it
 * is an SSE `data:` line (with or without a space, with or without blank lines between events) or
 * a bare JSON line. Comments and other SSE fields are skipped.
 */
export class JsonLineParser {
  private buffer = "";

  push(chunk: string): string[] {
    this.buffer += chunk;
    const lines = this.buffer.split("\n");
    this.buffer = lines.pop()!;
    return payloadsOf(lines);
  }

  flush(): string[] {
    const rest = this.buffer;
    this.buffer = "";
    return payloadsOf([rest]);
  }
}

function payloadsOf(lines: string[]): string[] {
  const payloads: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line === "" || line.startsWith(":") || /^(event|id|retry):/.test(line)) continue;
    payloads.push(line.startsWith("data:") ? line.slice(5).trimStart() : line);
  }
  return payloads;
}
