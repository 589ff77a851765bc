import { existsSync, mkdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { defaultResultDir } from "./result-files.ts";

/** One run's folder: `<root>/<YYYY-MM-DD>/<HHMMSS>_<backend>_<model-tag>/`. */
export interface RunFolder {
  root: string;
  dir: string;
  /** `<YYYY-MM-DD>/<HHMMSS>_<backend>_<model-tag>`: the run's name in the history. */
  name: string;
}

/** Makes the run's folder; a second run in the same second gets `-2`, `-3`, ... */
export function createRunFolder(root: string, backend: string, modelTag: string, now = new Date()): RunFolder {
  const base = defaultResultDir(root, backend, modelTag, now);
  let dir = base;
  for (let n = 2; existsSync(dir); n++) dir = `${base}-${n}`;
  mkdirSync(dir, { recursive: true });
  return { root, dir, name: relative(root, dir).split("\\").join("/") };
}

/** Points `<root>/latest` at the run (a relative symlink, replaced atomically). False where symlinks are not allowed. */
export function updateLatestLink(folder: RunFolder): boolean {
  const link = join(folder.root, "latest");
  const temporary = join(folder.root, `.latest-${process.pid}`);
  try {
    rmSync(temporary, { force: true });
    symlinkSync(relative(folder.root, folder.dir), temporary);
    renameSync(temporary, link);
    return true;
  } catch {
    rmSync(temporary, { force: true });
    return false;
  }
}
