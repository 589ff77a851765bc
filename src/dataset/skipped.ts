/** "12 entries skipped: 9 shorter than --min-input-len, 3 entries without a user turn"; null when none was. */
export function describeSkipped(skipped: Record<string, number>): string | null {
  const entries = Object.entries(skipped).filter(([, count]) => count > 0);
  if (entries.length === 0) return null;
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return `${total} ${total === 1 ? "entry" : "entries"} skipped: ${entries.map(([reason, count]) => `${count} ${reason}`).join(", ")}`;
}
