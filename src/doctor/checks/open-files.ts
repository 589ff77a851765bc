import type { Finding } from "../finding.ts";
import type { DoctorPlan } from "../plan.ts";
import { getOpenFileLimit, setOpenFileLimit, type OpenFileLimit } from "../rlimit.ts";

/** File descriptors besides the connections: stdio, records and logs, the history database, Bun's own. */
export const RESERVED_FDS = 100;

export interface OpenFileFacts {
  /** The limit as the process found it (Bun has already lifted the soft limit to the hard one). */
  before: OpenFileLimit;
  /** The limit after the doctor raised it (the same when it did not need to, or could not). */
  after: OpenFileLimit;
}

export function neededOpenFiles(connections: number): number {
  return connections + RESERVED_FDS;
}

/**
 * Raises this process's open-file limit to what the plan needs: the soft limit up to the hard one,
 * and the hard one too where the kernel allows it (root with CAP_SYS_RESOURCE). A server llmbench
 * launches inherits the raised limit.
 */
export function raiseOpenFileLimit(plan: DoctorPlan): OpenFileFacts {
  const before = getOpenFileLimit();
  if (plan.peakConnections === null) return { before, after: before };
  const needed = neededOpenFiles(plan.peakConnections);
  if (before.soft >= needed) return { before, after: before };
  if (needed <= before.hard) setOpenFileLimit({ soft: before.hard, hard: before.hard });
  else setOpenFileLimit({ soft: needed, hard: needed });
  return { before, after: getOpenFileLimit() };
}

const show = (n: number) => (n === Infinity ? "unlimited" : String(n));

/** A limit worth setting: the need rounded up, and at least 65,536 (what most GPU hosts are given). */
export function suggestedLimit(needed: number): number {
  return Math.max(65_536, Math.ceil(needed / 1024) * 1024);
}

export function judgeOpenFiles(facts: OpenFileFacts, plan: DoctorPlan): Finding {
  const { before, after } = facts;
  const limits = `soft ${show(after.soft)}, hard ${show(after.hard)}`;
  const raised = after.soft > before.soft ? ` (raised from soft ${show(before.soft)}, hard ${show(before.hard)})` : "";
  if (plan.peakConnections === null) {
    return { check: "open files", status: "ok", detail: `${limits}: room for ${show(after.soft - RESERVED_FDS)} connections`, fix: null };
  }
  const needed = neededOpenFiles(plan.peakConnections);
  const need = `${needed} needed for ${plan.peakConnections} connection${plan.peakConnections === 1 ? "" : "s"} (${plan.peakPoint}) + ${RESERVED_FDS} other files`;
  if (after.soft >= needed) {
    const inherited = plan.launchesLocalServer ? "; the launched server inherits it" : "";
    return { check: "open files", status: "ok", detail: `${limits}${raised}: ${need}${inherited}`, fix: null };
  }
  const n = suggestedLimit(needed);
  return {
    check: "open files",
    status: "fail",
    detail: `${limits}: ${need}; past ${show(after.soft)} new connections fail with EMFILE ("too many open files"), and the hard limit cannot be raised from inside llmbench (needs CAP_SYS_RESOURCE)`,
    fix: [
      `raise the limit in the shell that runs llmbench, then run again: ulimit -n ${n}`,
      `(if the shell's hard limit is lower, as root: ulimit -Hn ${n} && ulimit -n ${n})`,
      `to make it last: "* soft nofile ${n}" and "* hard nofile ${n}" in /etc/security/limits.conf (log in again);`,
      `LimitNOFILE=${n} in a systemd unit; docker run --ulimit nofile=${n}:${n}; Kubernetes: the container runtime's nofile limit`,
    ].join("\n"),
  };
}
