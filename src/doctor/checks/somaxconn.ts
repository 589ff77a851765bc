import { readFileSync } from "node:fs";
import type { Finding } from "../finding.ts";
import type { DoctorPlan } from "../plan.ts";

export const SOMAXCONN_FILE = "/proc/sys/net/core/somaxconn";

export function readSomaxconn(path = SOMAXCONN_FILE): number | null {
  try {
    const value = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * A server's accept queue is the smaller of its own listen backlog and net.core.somaxconn. When
 * more connections arrive at once than it holds, the kernel drops SYNs and the client retries after
 * 1, 3, 7 s, which then looks like the server's TTFT. Only a server launched here listens on this host.
 */
export function judgeSomaxconn(somaxconn: number | null, plan: DoctorPlan): Finding {
  if (!plan.launchesLocalServer) {
    return { check: "somaxconn", status: "skip", detail: "no server is launched on this host: check net.core.somaxconn on the server's host", fix: null };
  }
  if (somaxconn === null) return { check: "somaxconn", status: "skip", detail: `cannot read ${SOMAXCONN_FILE}`, fix: null };
  const detail = `net.core.somaxconn ${somaxconn}`;
  if (plan.peakConnections === null || somaxconn >= plan.peakConnections) {
    return { check: "somaxconn", status: "ok", detail: plan.peakConnections === null ? detail : `${detail} ≥ ${plan.peakConnections} connections`, fix: null };
  }
  const wanted = Math.max(4096, 2 ** Math.ceil(Math.log2(plan.peakConnections)));
  return {
    check: "somaxconn",
    status: "warn",
    detail: `${detail} < ${plan.peakConnections} connections (${plan.peakPoint}): connections arriving together beyond it are dropped and retried after 1-7 s, which shows up as TTFT`,
    fix: `sysctl -w net.core.somaxconn=${wanted} net.ipv4.tcp_max_syn_backlog=${wanted}, and give the server a backlog as large (uvicorn --backlog ${wanted})`,
  };
}
