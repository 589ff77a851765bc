/**
 * What this llmbench is: its version, and, in a built binary, the build facts that scripts/release.ts
 * injects with `bun build --define` (the target it was built for, the Bun that built it, the git
 * commit). Run from source (`bun src/cli.ts`, tests), the build facts describe the running Bun.
 */
export const VERSION = "0.1.0";

declare const __LLMBENCH_TARGET__: string | undefined;
declare const __LLMBENCH_BUILT_WITH_BUN__: string | undefined;
declare const __LLMBENCH_COMMIT__: string | undefined;

export interface BuildInfo {
  version: string;
  /** Release target name, such as "linux-arm64" or "linux-x64-musl"; "source" when not built. */
  target: string;
  /** Version of the Bun that compiled the binary (Bun.version at build time, not process.version). */
  bun: string;
  /** Git commit the binary was built from, with "-dirty" when the tree had uncommitted changes. */
  commit: string;
}

export const BUILD: BuildInfo = {
  version: VERSION,
  target: typeof __LLMBENCH_TARGET__ === "string" ? __LLMBENCH_TARGET__ : "source",
  bun: typeof __LLMBENCH_BUILT_WITH_BUN__ === "string" ? __LLMBENCH_BUILT_WITH_BUN__ : Bun.version,
  commit: typeof __LLMBENCH_COMMIT__ === "string" ? __LLMBENCH_COMMIT__ : "unknown",
};

/** `llmbench --version`: "llmbench/0.1.0 linux-arm64 bun-1.4.5 commit 3658e78a1b2c". */
export function versionLine(build: BuildInfo = BUILD): string {
  return `llmbench/${build.version} ${build.target} bun-${build.bun} commit ${build.commit}`;
}
