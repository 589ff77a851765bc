/**
 * The open-file limit (RLIMIT_NOFILE) through libc's getrlimit/setrlimit, called with bun:ffi:
 * Bun has no API for it, and a shell `ulimit` cannot change the limit of a process already running.
 * (Bun itself raises the soft limit to the hard one at start; raising the hard limit needs
 * CAP_SYS_RESOURCE.) Where libc cannot be opened, the limit is read from /proc/self/limits.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";
import { readFileSync } from "node:fs";

const RLIMIT_NOFILE = 7; // the same on x86-64 and arm64 Linux

export interface OpenFileLimit {
  soft: number;
  hard: number;
}

type Libc = ReturnType<typeof openLibc>;
let libc: Libc | null | undefined;

function openLibc() {
  const signature = { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 } as const;
  const arch = process.arch === "arm64" ? "aarch64" : "x86_64";
  const errors: string[] = [];
  // glibc; musl's libc is its loader (Alpine also links it as libc.musl-<arch>.so.1)
  for (const name of ["libc.so.6", `libc.musl-${arch}.so.1`, `ld-musl-${arch}.so.1`, "libc.so"]) {
    try {
      return dlopen(name, { getrlimit: signature, setrlimit: signature }).symbols;
    } catch (error) {
      errors.push(`${name}: ${(error as Error).message}`);
    }
  }
  throw new Error(errors.join("; "));
}

function getLibc(): Libc | null {
  if (libc === undefined) {
    try {
      libc = openLibc();
    } catch {
      libc = null;
    }
  }
  return libc;
}

const toNumber = (value: bigint) => (value > BigInt(Number.MAX_SAFE_INTEGER) ? Infinity : Number(value));

export function getOpenFileLimit(): OpenFileLimit {
  const symbols = getLibc();
  if (symbols !== null) {
    const limit = new BigUint64Array(2);
    if (symbols.getrlimit(RLIMIT_NOFILE, ptr(limit)) === 0) return { soft: toNumber(limit[0]!), hard: toNumber(limit[1]!) };
  }
  return readProcLimits();
}

/** Sets the soft and hard limits; false when the kernel refused (or libc could not be opened). */
export function setOpenFileLimit(limit: OpenFileLimit): boolean {
  const symbols = getLibc();
  if (symbols === null) return false;
  const toBig = (value: number) => (value === Infinity ? 0xffffffffffffffffn : BigInt(value));
  const wanted = new BigUint64Array([toBig(limit.soft), toBig(limit.hard)]);
  return symbols.setrlimit(RLIMIT_NOFILE, ptr(wanted)) === 0;
}

function readProcLimits(): OpenFileLimit {
  const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
  const [soft, hard] = (line ?? "").replace("Max open files", "").trim().split(/\s+/);
  const parse = (value: string | undefined) => (value === "unlimited" ? Infinity : Number(value));
  return { soft: parse(soft), hard: parse(hard) };
}
