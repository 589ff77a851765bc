/** A problem with the user's input (flags, files, config): reported plainly, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}
