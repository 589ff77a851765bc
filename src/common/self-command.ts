import { join } from "node:path";

/** True inside a `bun build --compile` binary, whose modules live in Bun's embedded file system. */
export function isCompiledBinary(): boolean {
  return import.meta.path.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(import.meta.path);
}

/** The argv that runs this same llmbench: the binary itself, or bun with src/cli.ts from a checkout. */
export function llmbenchCommand(): string[] {
  return isCompiledBinary() ? [process.execPath] : [process.execPath, join(import.meta.dir, "../cli.ts")];
}
