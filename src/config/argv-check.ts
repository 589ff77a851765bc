import { nearestName } from "./field-checks.ts";
import { UsageError } from "../common/usage-error.ts";

/**
 * Checks the options of a command line against the ones its command declares, before the parser
 * sees them, so that every unknown option is reported at once and as the user typed it (the
 * parser would report one, camel-cased), with the nearest known name.
 */

/** The `--long` and `-s` spellings an option declaration such as "-h, --help" or "--no-progress" accepts. */
export function spellingsOf(rawName: string): string[] {
  return rawName
    .split(/[ ,]+/)
    .filter((part) => /^--?[A-Za-z]/.test(part))
    .map((part) => part.replace(/[<[].*$/, ""));
}

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** Every unknown option of `args` (the arguments after the command name), as typed; `known` are spellings like "--num-clients", "-h". */
export function unknownOptions(args: readonly string[], known: readonly string[]): string[] {
  const accepted = new Set(known);
  const unknown: string[] = [];
  for (const arg of args) {
    if (arg === "--") break; // everything after it is positional
    if (!arg.startsWith("-") || arg === "-" || /^-(\d|\.\d|inf)/i.test(arg)) continue; // values, negative numbers
    const typed = arg.split("=")[0]!;
    if (accepted.has(typed) || accepted.has(kebab(typed))) continue;
    if (!typed.startsWith("--") && typed.length > 2 && [...typed.slice(1)].every((c) => accepted.has(`-${c}`))) continue; // -hv
    unknown.push(typed);
  }
  return [...new Set(unknown)];
}

/** A UsageError naming every unknown option with a "did you mean", or nothing when all are known. */
export function checkOptions(command: string, args: readonly string[], known: readonly string[]): void {
  const unknown = unknownOptions(args, known);
  if (unknown.length === 0) return;
  const longNames = known.filter((name) => name.startsWith("--"));
  const lines = unknown.map((typed) => {
    const near = nearestName(typed, longNames);
    return `unknown option ${typed}${near ? ` (did you mean ${near}?)` : ""}`;
  });
  const where = command === "" ? "llmbench --help" : `llmbench ${command} --help`;
  throw new UsageError(`${lines.join("\n  ")}\n  (${where} lists the options)`);
}

/**
 * vLLM's `--goodput ttft:200 tpot:50` takes several values after one flag: they are joined into
 * one comma-separated value (`--goodput=ttft:200,tpot:50`), the form our parser reads.
 */
export function joinGoodputValues(args: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg !== "--goodput") {
      result.push(arg);
      continue;
    }
    const values: string[] = [];
    while (i + 1 < args.length && /^[a-z_]+:[^\s]+$/i.test(args[i + 1]!) && !args[i + 1]!.startsWith("-")) values.push(args[++i]!);
    result.push(values.length > 0 ? `--goodput=${values.join(",")}` : arg);
  }
  return result;
}
