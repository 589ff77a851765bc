import { readFileSync } from "node:fs";
import type { Finding } from "../finding.ts";

const CLOCKSOURCE_DIR = "/sys/devices/system/clocksource/clocksource0";

export interface ClockFacts {
  current: string | null;
  available: string[];
  /** Measured cost of one performance.now(), in nanoseconds. */
  nsPerRead: number;
}

/** A clock read above this costs more than a syscall on a fast clock source: every token pays it. */
export const SLOW_CLOCK_NS = 500;

/** Clock sources read in user space (vDSO) at a few tens of ns. */
const FAST_SOURCES = new Set(["tsc", "kvm-clock", "arch_sys_counter", "hyperv_clocksource_tsc_page"]);

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return null;
  }
}

export function readClock(dir = CLOCKSOURCE_DIR): ClockFacts {
  const reads = 200_000;
  const started = Bun.nanoseconds();
  let sink = 0;
  for (let i = 0; i < reads; i++) sink += performance.now();
  const nsPerRead = (Bun.nanoseconds() - started) / reads;
  if (sink === -1) console.log(); // keeps the loop from being optimized away
  return {
    current: readText(`${dir}/current_clocksource`),
    available: (readText(`${dir}/available_clocksource`) ?? "").split(/\s+/).filter(Boolean),
    nsPerRead,
  };
}

export function judgeClock(facts: ClockFacts): Finding {
  const cost = `performance.now() costs ${facts.nsPerRead.toFixed(0)} ns`;
  const source = facts.current ?? "unknown";
  const detail = `clock source ${source}, ${cost}`;
  const slow = facts.nsPerRead > SLOW_CLOCK_NS || (facts.current !== null && !FAST_SOURCES.has(facts.current));
  if (!slow) return { check: "clock", status: "ok", detail, fix: null };
  const better = facts.available.find((name) => FAST_SOURCES.has(name) && name !== facts.current);
  return {
    check: "clock",
    status: "warn",
    detail: `${detail}: a slow clock source adds its cost to every timestamp, and each token is timestamped`,
    fix: better
      ? `echo ${better} > ${CLOCKSOURCE_DIR}/current_clocksource (as root; lasting: clocksource=${better} on the kernel command line)`
      : `the kernel offers only ${facts.available.join(", ") || "this source"}: on a VM, a host with an invariant TSC (clocksource=tsc tsc=reliable) reads the clock in user space`,
  };
}
