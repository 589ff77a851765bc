/**
 * Secrets never reach a file llmbench writes. The config names environment variables rather than
 * holding keys, but a launch env or argv can still carry one (HF_TOKEN=..., --api-key ...).
 */

// HF_TOKEN, --api-key, AWS_SECRET_ACCESS_KEY, --auth...; not --tokenizer-path or --max-new-tokens.
const SECRET_NAME = /(api[-_]?key|secret|passw(or)?d|credential|token$|(^|[-_])key$|^auth|[-_]auth)/i;
export const REDACTED = "<redacted>";

export function looksSecret(name: string): boolean {
  return SECRET_NAME.test(name.replace(/^-+/, ""));
}

/** Values of secret-looking names replaced. */
export function redactEnv(env: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([name, value]) => [name, looksSecret(name) ? REDACTED : value]));
}

/** `--api-key X` and `--api-key=X` (any secret-looking option) with the value replaced. */
export function redactArgv(argv: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = /^(--?[^=\s]+)=(.*)$/.exec(arg);
    if (inline && looksSecret(inline[1]!)) {
      result.push(`${inline[1]}=${REDACTED}`);
    } else if (/^--?[A-Za-z]/.test(arg) && looksSecret(arg) && i + 1 < argv.length && !argv[i + 1]!.startsWith("-")) {
      result.push(arg, REDACTED);
      i++;
    } else {
      result.push(arg);
    }
  }
  return result;
}

/** The values `redactEnv` and `redactArgv` hide: registered with the output scrubber, so an echo of one is hidden too. */
export function secretValues(env: Record<string, string>, argv: readonly string[]): string[] {
  const values = Object.entries(env).filter(([name]) => looksSecret(name)).map(([, value]) => value);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const inline = /^(--?[^=\s]+)=(.*)$/.exec(arg);
    if (inline && looksSecret(inline[1]!)) values.push(inline[2]!);
    else if (/^--?[A-Za-z]/.test(arg) && looksSecret(arg) && i + 1 < argv.length && !argv[i + 1]!.startsWith("-")) values.push(argv[++i]!);
  }
  return values.filter((value) => value !== "");
}

/** An argv as one line a person can read (and paste into a shell). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`)).join(" ");
}
