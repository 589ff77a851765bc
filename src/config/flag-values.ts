import { UsageError } from "../common/usage-error.ts";

/** Flags as the parser gave them (camelCase keys). */
export type RawFlags = Record<string, unknown>;

/** Reading one flag's value, with an error that names the flag and what was expected. */

type Raw = unknown;

function present(value: Raw): boolean {
  return value !== undefined && value !== null && value !== "";
}

function asNumber(flag: string, value: Raw, expected: string): number {
  if (typeof value === "boolean" || Array.isArray(value)) throw new UsageError(`${flag}: expected ${expected}, got ${JSON.stringify(value)}`);
  const number = typeof value === "number" ? value : Number(String(value).trim());
  if (!Number.isFinite(number)) throw new UsageError(`${flag}: expected ${expected}, got "${String(value)}"`);
  return number;
}

export function positiveInteger(flag: string, value: Raw): number;
export function positiveInteger(flag: string, value: Raw, fallback: number | null): number | null;
export function positiveInteger(flag: string, value: Raw, fallback?: number | null): number | null {
  if (!present(value)) {
    if (fallback === undefined) throw new UsageError(`${flag} is required (a positive integer)`);
    return fallback;
  }
  const number = asNumber(flag, value, "a positive integer");
  if (!Number.isInteger(number) || number < 1) throw new UsageError(`${flag}: expected a positive integer, got ${String(value)}`);
  return number;
}

export function nonNegativeInteger(flag: string, value: Raw, fallback: number): number {
  if (!present(value)) return fallback;
  const number = asNumber(flag, value, "a non-negative integer");
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`${flag}: expected a non-negative integer, got ${String(value)}`);
  return number;
}

export function nonNegativeSeconds(flag: string, value: Raw, fallback: number | null): number | null {
  if (!present(value)) return fallback;
  const number = asNumber(flag, value, "a number of seconds ≥ 0");
  if (number < 0) throw new UsageError(`${flag}: expected a number of seconds ≥ 0, got ${String(value)}`);
  return number;
}

export function positiveSeconds(flag: string, value: Raw, fallback: number): number {
  if (!present(value)) return fallback;
  const number = asNumber(flag, value, "a number of seconds > 0");
  if (number <= 0) throw new UsageError(`${flag}: expected a number of seconds > 0, got ${String(value)}`);
  return number;
}

export function positiveNumber(flag: string, value: Raw, fallback: number): number {
  if (!present(value)) return fallback;
  const number = asNumber(flag, value, "a number > 0");
  if (number <= 0) throw new UsageError(`${flag}: expected a number > 0, got ${String(value)}`);
  return number;
}

export function nonNegativeNumber(flag: string, value: Raw, fallback: number): number {
  if (!present(value)) return fallback;
  const number = asNumber(flag, value, "a number ≥ 0");
  if (number < 0) throw new UsageError(`${flag}: expected a number ≥ 0, got ${String(value)}`);
  return number;
}

export function text(flag: string, value: Raw): string;
export function text(flag: string, value: Raw, fallback: string): string;
export function text(flag: string, value: Raw, fallback?: string): string {
  if (!present(value)) {
    if (fallback === undefined) throw new UsageError(`${flag} is required`);
    return fallback;
  }
  if (typeof value === "boolean" || Array.isArray(value)) throw new UsageError(`${flag}: expected one value, got ${JSON.stringify(value)}`);
  return String(value);
}

export function oneOf<T extends string>(flag: string, value: Raw, choices: readonly T[], fallback: T): T {
  const chosen = text(flag, value, fallback);
  if (!(choices as readonly string[]).includes(chosen)) {
    throw new UsageError(`${flag}: expected one of ${choices.join(", ")}, got "${chosen}"`);
  }
  return chosen as T;
}

export function httpUrl(flag: string, value: Raw, fallback: string): string {
  const url = text(flag, value, fallback);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`${flag}: expected a URL such as http://127.0.0.1:8000, got "${url}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`${flag}: expected an http:// or https:// URL, got "${url}"`);
  }
  return url.replace(/\/+$/, "");
}

/** `host:port` without a scheme (gRPC targets): a name or IPv4 address, or an [IPv6] address, and a port 1..65535. */
export function hostPort(flag: string, value: Raw, fallback: string, purpose: string): string {
  const target = text(flag, value, fallback).trim();
  const example = `such as 127.0.0.1:23333`;
  if (target.includes("://")) throw new UsageError(`${flag}: ${purpose} takes host:port without a scheme, ${example}, got "${target}"`);
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*):(\d{1,5})$/.exec(target);
  const port = match ? Number(match[2]) : 0;
  if (!match || port < 1 || port > 65535) throw new UsageError(`${flag}: ${purpose} takes host:port, ${example}, got "${target}"`);
  return target;
}
