import type { GoodputSlo } from "../metrics/goodput.ts";
import { UsageError } from "../common/usage-error.ts";

const METRICS = ["ttft", "tpot", "e2e"] as const;

/** `ttft:200,tpot:50,e2e:5000` (ms, any subset) → the SLOs. */
export function parseGoodput(flag: string, value: unknown): GoodputSlo | null {
  if (value === undefined || value === null || value === "") return null;
  const expected = `expected metric:ms pairs such as ttft:200,tpot:50,e2e:5000`;
  if (typeof value !== "string") throw new UsageError(`${flag}: ${expected}, got ${JSON.stringify(value)}`);
  const slo: GoodputSlo = {};
  // vLLM writes `ttft:200 tpot:50 e2el:5000`: spaces separate too, and e2el is e2e.
  for (const part of value.trim().split(/[\s,]+/)) {
    const [given, ms, extra] = part.split(":").map((piece) => piece.trim());
    const name = given === "e2el" ? "e2e" : given;
    if (!(METRICS as readonly string[]).includes(name ?? "") || ms === undefined || extra !== undefined) {
      throw new UsageError(`${flag}: ${expected}, got "${part}"`);
    }
    const limit = Number(ms);
    if (!Number.isFinite(limit) || limit <= 0) throw new UsageError(`${flag}: the ${name} limit must be a number of ms > 0, got "${ms}"`);
    slo[name as (typeof METRICS)[number]] = limit;
  }
  return slo;
}
