/**
 * `llmbench doctor`: checks what breaks big runs on a real host before anything is sent, each
 * finding with the fix to apply. It raises the open-file limit where it may; it changes nothing else.
 */
import pc from "picocolors";
import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import { UsageError } from "../config/usage-error.ts";
import { judgeClock, readClock } from "./checks/clock.ts";
import { checkDataset } from "./checks/dataset.ts";
import { ASSUMED_OUTPUT_TOKENS, judgeDisk, readDisk } from "./checks/disk.ts";
import { judgeOpenFiles, neededOpenFiles, raiseOpenFileLimit } from "./checks/open-files.ts";
import { judgePorts, readPortRange } from "./checks/ports.ts";
import { judgeSomaxconn, readSomaxconn } from "./checks/somaxconn.ts";
import { worstStatus, type Finding } from "./finding.ts";
import { planFromConfig, type DoctorPlan } from "./plan.ts";
import { getOpenFileLimit } from "./rlimit.ts";

/** A sweep runs the doctor by itself from this many concurrent connections at its busiest point. */
export const AUTO_DOCTOR_CONNECTIONS = 500;

/** Exit codes of `llmbench doctor`. */
export const DOCTOR_EXIT = { ok: 0, problem: 1, usage: 2 } as const;

export async function runDoctor(plan: DoctorPlan, options: { dataset: boolean }): Promise<Finding[]> {
  const findings: Finding[] = [
    judgeOpenFiles(raiseOpenFileLimit(plan), plan),
    judgePorts(readPortRange(), plan),
    judgeSomaxconn(readSomaxconn(), plan),
    judgeClock(readClock()),
  ];
  let tokens = plan.outputLen === null ? null : { tokens: plan.outputLen, source: "dataset.outputLen" };
  if (plan.config !== null && options.dataset) {
    const dataset = await checkDataset(plan.config);
    findings.push(dataset.finding);
    if (tokens === null && dataset.meanOutputLen !== null) tokens = { tokens: dataset.meanOutputLen, source: "the dataset's mean" };
  }
  findings.push(judgeDisk(readDisk(plan.outputDir), plan, tokens ?? { tokens: ASSUMED_OUTPUT_TOKENS, source: "assumed" }));
  return findings;
}

const LABELS: Record<Finding["status"], string> = {
  ok: pc.green("ok  "),
  warn: pc.yellow("WARN"),
  fail: pc.red("FAIL"),
  skip: pc.dim("skip"),
};

export function describePlan(plan: DoctorPlan): string {
  const load =
    plan.peakConnections === null
      ? "no planned load given (--clients N says it)"
      : `peak ${plan.peakConnections} connection${plan.peakConnections === 1 ? "" : "s"} (${plan.peakPoint})`;
  return `${plan.source}: ${load}${plan.launchesLocalServer ? ", server launched on this host" : ""}`;
}

export function formatFindings(findings: readonly Finding[]): string {
  const width = Math.max(...findings.map((f) => f.check.length));
  const lines: string[] = [];
  for (const finding of findings) {
    lines.push(`  ${LABELS[finding.status]}  ${finding.check.padEnd(width)}  ${finding.detail}`);
    if (finding.fix !== null) {
      const indent = " ".repeat(width + 10);
      lines.push(...finding.fix.split("\n").map((line, i) => `${indent}${i === 0 ? "fix: " : "     "}${line}`));
    }
  }
  return lines.join("\n");
}

/**
 * The doctor at the start of a sweep (one call before anything starts): it runs when the busiest
 * point opens AUTO_DOCTOR_CONNECTIONS connections or more, or more than the open-file limit holds,
 * and stops the sweep with exit 2 when it finds what would break it. The dataset is not checked
 * here: the sweep loads it next and reports its errors itself.
 */
export async function sweepPreflight(config: ResolvedBenchConfig, enabled: boolean): Promise<void> {
  if (!enabled) return;
  const plan = planFromConfig(config);
  const peak = plan.peakConnections;
  if (peak !== null && peak < AUTO_DOCTOR_CONNECTIONS && neededOpenFiles(peak) <= getOpenFileLimit().soft) return;
  const findings = await runDoctor(plan, { dataset: false });
  console.log(`llmbench doctor — ${describePlan(plan)}`);
  console.log(formatFindings(findings));
  if (worstStatus(findings) === "fail") {
    throw new UsageError("doctor: this host would break the sweep (FAIL above); apply the fix and run again, or pass --no-doctor to run anyway");
  }
}
