/** The C library's functions through bun:ffi, or null where none of the known libcs loads (not Linux, no bun:ffi). */
import type { FFIFunction } from "bun:ffi";

const LIBC_CANDIDATES = ["libc.so.6", "/lib/ld-musl-x86_64.so.1", "/lib/ld-musl-aarch64.so.1"];

export function libcFunctions<const T extends Record<string, FFIFunction>>(symbols: T): Record<keyof T, (...args: never[]) => unknown> | null {
  let ffi: typeof import("bun:ffi");
  try {
    ffi = require("bun:ffi") as typeof import("bun:ffi");
  } catch {
    return null;
  }
  for (const candidate of LIBC_CANDIDATES) {
    try {
      return ffi.dlopen(candidate, symbols).symbols as unknown as Record<keyof T, (...args: never[]) => unknown>;
    } catch {
      continue;
    }
  }
  return null;
}
