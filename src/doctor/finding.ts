/** What one doctor check found: a verdict, what it saw, and the fix to apply when it is not ok. */
export interface Finding {
  /** Short name of the check: "open files", "ports", ... */
  check: string;
  /**
   * ok: fine for the planned load. warn: the run works but may be distorted. fail: the run would
   * break (or cannot start). skip: not applicable or not measurable here (the reason is the detail).
   */
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  /** What to do about it (shell commands where there are some); null when nothing is needed. */
  fix: string | null;
}

export function worstStatus(findings: readonly Finding[]): Finding["status"] {
  if (findings.some((f) => f.status === "fail")) return "fail";
  if (findings.some((f) => f.status === "warn")) return "warn";
  return "ok";
}
