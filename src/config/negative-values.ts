/**
 * `--num-clients -1`: the option parser takes a value that starts with "-" for an option of its own
 * (and says ``Unknown option `-1` ``). A negative number after a long option is that option's value,
 * so it is joined to it (`--num-clients=-1`) and the option's own check says what it expects.
 */
export function joinNegativeValues(argv: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const next = argv[i + 1];
    if (/^--[A-Za-z][\w-]*$/.test(arg) && next !== undefined && /^-(\d|\.\d|inf)/i.test(next)) {
      result.push(`${arg}=${next}`);
      i++;
    } else {
      result.push(arg);
    }
  }
  return result;
}
