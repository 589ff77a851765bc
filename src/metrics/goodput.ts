import type { RequestRecord } from "../records/record.ts";
import { requestLatency } from "./request-latency.ts";

/** Service-level objectives in ms; a request meets them when it succeeded within every one given. */
export interface GoodputSlo {
  ttft?: number;
  tpot?: number;
  e2e?: number;
}

export interface Goodput {
  /** Requests meeting every SLO, per second of the run. */
  goodput: number;
  /** The fraction of the requests issued that met every SLO. */
  goodput_ratio: number;
  met: number;
}

/** TPOT of a one-token answer is undefined and does not fail a TPOT objective. */
export function meetsSlo(record: RequestRecord, slo: GoodputSlo): boolean {
  if (record.status !== "ok") return false;
  const latency = requestLatency(record.events, record.out_tokens);
  if (latency === null) return false;
  if (slo.ttft !== undefined && latency.ttft > slo.ttft) return false;
  if (slo.e2e !== undefined && latency.e2e > slo.e2e) return false;
  if (slo.tpot !== undefined && latency.tpot !== null && latency.tpot > slo.tpot) return false;
  return true;
}

export function goodput(records: readonly RequestRecord[], slo: GoodputSlo, durationS: number): Goodput {
  let met = 0;
  for (const record of records) if (meetsSlo(record, slo)) met++;
  return {
    goodput: durationS > 0 ? met / durationS : 0,
    goodput_ratio: records.length > 0 ? met / records.length : 0,
    met,
  };
}
