import { registerSecret } from "../records/scrub.ts";

/**
 * The key itself, read from the environment only where a backend is built; null when none is
 * configured or set. Reading it registers it with the output scrubber.
 */
export function readApiKey(apiKeyEnv: string | null): string | null {
  const key = (apiKeyEnv && process.env[apiKeyEnv]) || null;
  registerSecret(key);
  return key;
}

/** What the resolved configuration shows of the key: where it comes from, never its value. */
export function describeApiKey(apiKeyEnv: string | null): string {
  if (apiKeyEnv === null) return "none";
  return process.env[apiKeyEnv] ? `from $${apiKeyEnv} (redacted)` : `none ($${apiKeyEnv} is not set)`;
}
