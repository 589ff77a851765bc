import type { RequestStats } from "./request-stats.ts";

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
export function meetsSlo(request: RequestStats, slo: GoodputSlo): boolean {
  if (!request.ok) return false;
  if (slo.ttft !== undefined && request.ttft! > slo.ttft) return false;
  if (slo.e2e !== undefined && request.e2e! > slo.e2e) return false;
  if (slo.tpot !== undefined && request.tpot !== null && request.tpot > slo.tpot) return false;
  return true;
}

export function goodput(requests: readonly RequestStats[], slo: GoodputSlo, durationS: number): Goodput {
  let met = 0;
  for (const request of requests) if (meetsSlo(request, slo)) met++;
  return {
    goodput: durationS > 0 ? met / durationS : 0,
    goodput_ratio: requests.length > 0 ? met / requests.length : 0,
    met,
  };
}
