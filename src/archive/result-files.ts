import { accessSync, constants, mkdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { UsageError } from "../config/usage-error.ts";
import { scrub } from "../records/scrub.ts";
import { columnsOf, csvHeader, csvLine } from "../report/csv.ts";
import type { Row } from "../report/seed-columns.ts";

/** `result/<YYYY-MM-DD>/<HHMMSS>_<backend>_<model>/`, in local time, with names safe for any file system. */
export function defaultResultDir(root: string, backend: string, model: string, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const date = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  const time = `${pad(now.getHours())}${pad(now.getMinutes())}${pad(now.getSeconds())}`;
  return join(root, date, `${time}_${safeName(backend)}_${safeName(model)}`);
}

/** A model given as a path or HF id (`meta-llama/Llama-2-7b`) becomes its last part, other odd characters `_`. */
export function safeName(name: string): string {
  const last = name.replace(/\/+$/, "").split("/").pop() || name;
  return last.replace(/[^A-Za-z0-9._-]+/g, "_") || "model";
}

/**
 * That `dir` can be made and written, checked without making it (before any request or server):
 * its nearest existing ancestor must be a folder this process may write in. `what` names the
 * flag or field in the UsageError.
 */
export function assertWritableDir(dir: string, what: string): void {
  let existing = resolve(dir);
  for (;;) {
    let isDirectory: boolean;
    try {
      isDirectory = statSync(existing).isDirectory();
    } catch {
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
      continue;
    }
    if (!isDirectory) throw new UsageError(`${what} ${dir}: cannot be created, ${existing} is a file, not a folder`);
    try {
      accessSync(existing, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new UsageError(`${what} ${dir}: cannot be written (${code === "EROFS" ? "read-only file system" : `no write permission in ${existing}`})`);
    }
    return;
  }
}

export function ensureDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

/** Written to a temporary name and renamed, so a reader never sees half a summary; secrets scrubbed. */
export function writeFileAtomic(path: string, content: string): void {
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, scrub(content));
  renameSync(temporary, path);
}

export function writeSummaryFiles(dir: string, summaryObject: Record<string, unknown>, rows: Row[]): void {
  writeFileAtomic(join(dir, "summary.json"), JSON.stringify(summaryObject, null, 2) + "\n");
  writeFileAtomic(join(dir, "summary.csv"), csvHeader(columnsOf(rows[0])) + rows.map((row) => csvLine(row, columnsOf(rows[0]))).join(""));
}
