import { readFileSync } from "node:fs";
import type { Finding } from "../finding.ts";
import type { DoctorPlan } from "../plan.ts";

export const PORT_RANGE_FILE = "/proc/sys/net/ipv4/ip_local_port_range";

export interface PortRange {
  low: number;
  high: number;
}

export function readPortRange(path = PORT_RANGE_FILE): PortRange | null {
  try {
    const [low, high] = readFileSync(path, "utf8").trim().split(/\s+/).map(Number);
    return Number.isInteger(low) && Number.isInteger(high) ? { low: low!, high: high! } : null;
  } catch {
    return null;
  }
}

/**
 * Every connection to the one server address needs its own local (ephemeral) port, and a port the
 * client closed stays taken for 60 s in TIME_WAIT: more connections than the range fails
 * (EADDRNOTAVAIL), more than half of it leaves little room for connections that are replaced.
 */
export function judgePorts(range: PortRange | null, plan: DoctorPlan): Finding {
  if (range === null) return { check: "ports", status: "skip", detail: `cannot read ${PORT_RANGE_FILE}`, fix: null };
  const size = range.high - range.low + 1;
  const detail = `ephemeral port range ${range.low}-${range.high} (${size} ports)`;
  if (plan.peakConnections === null) return { check: "ports", status: "ok", detail: `${detail}: room for ${size} connections to one server`, fix: null };
  const against = `${plan.peakConnections} connection${plan.peakConnections === 1 ? "" : "s"} to one server (${plan.peakPoint})`;
  const fix = `sysctl -w net.ipv4.ip_local_port_range="1024 65535" (lasting: that line, as net.ipv4.ip_local_port_range = 1024 65535, in /etc/sysctl.d/90-llmbench.conf)`;
  if (plan.peakConnections > size) {
    return { check: "ports", status: "fail", detail: `${detail} < ${against}: connections past ${size} fail with EADDRNOTAVAIL`, fix };
  }
  if (plan.peakConnections > size / 2) {
    return { check: "ports", status: "warn", detail: `${detail}, ${against}: closed connections hold their port 60 s (TIME_WAIT), little room is left`, fix };
  }
  return { check: "ports", status: "ok", detail: `${detail}: ${against}`, fix: null };
}
