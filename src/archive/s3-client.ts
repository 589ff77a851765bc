/**
 * The S3 side every S3 feature shares: s3://bucket/prefix locations, Bun's built-in S3 client made
 * from the standard AWS environment variables (the secret and token registered with the output
 * scrubber as they are read), and a failure put in words that name what failed and never carry a
 * secret, even when the server echoes one back.
 */
import { registerSecret, scrub } from "../records/scrub.ts";

export interface S3Location {
  bucket: string;
  /** Without leading or trailing slashes; "" for the bucket's root. */
  prefix: string;
}

/** The variables read, in order of preference for each setting. */
export const S3_ENV = {
  accessKeyId: ["AWS_ACCESS_KEY_ID"],
  secretAccessKey: ["AWS_SECRET_ACCESS_KEY"],
  sessionToken: ["AWS_SESSION_TOKEN"],
  region: ["AWS_REGION", "AWS_DEFAULT_REGION"],
  /** An S3-compatible store (MinIO, R2, Ceph …): its URL. */
  endpoint: ["LLMBENCH_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "S3_ENDPOINT", "AWS_ENDPOINT"],
} as const;

export type Env = Record<string, string | undefined>;

/** s3://bucket/prefix, or a message saying what was expected. */
export function parseS3Url(text: string): S3Location | string {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(text.trim());
  if (!match) return `expected s3://bucket/prefix (a bucket name of 3-63 lower-case letters, digits, dots and dashes), got "${text}"`;
  return { bucket: match[1]!, prefix: (match[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

export const isS3Url = (text: string): boolean => /^s3:\/\//i.test(text.trim());

function first(env: Env, names: readonly string[]): string | undefined {
  for (const name of names) if (env[name]) return env[name];
  return undefined;
}

/** What is missing for an upload or a read, in words; null when the environment has what it needs. */
export function missingCredentials(env: Env): string | null {
  const missing = [S3_ENV.accessKeyId[0], S3_ENV.secretAccessKey[0]].filter((name) => !env[name]);
  return missing.length === 0 ? null : `set ${missing.join(" and ")} in the environment (the credentials are read from there only)`;
}

export function s3Url(location: S3Location, key = ""): string {
  return `s3://${location.bucket}/${[location.prefix, key].filter(Boolean).join("/")}`;
}

/** The location `key` (a path under its prefix) names. */
export function under(location: S3Location, key: string): S3Location {
  return { bucket: location.bucket, prefix: [location.prefix, key].filter(Boolean).join("/") };
}

/** The endpoint requests go to, as said in messages (no user or password of its URL). */
export function endpointOf(env: Env = process.env): string {
  const endpoint = first(env, S3_ENV.endpoint);
  if (!endpoint) return `AWS S3 (region ${first(env, S3_ENV.region) ?? "us-east-1"})`;
  try {
    const url = new URL(endpoint);
    url.username = "";
    url.password = "";
    return url.toString().replace(/\/$/, "");
  } catch {
    return "the endpoint in LLMBENCH_S3_ENDPOINT";
  }
}

/** A client of `bucket`, from the environment; path-style addressing when an endpoint is named. */
export function s3ClientFor(bucket: string, env: Env = process.env): Bun.S3Client {
  const secret = first(env, S3_ENV.secretAccessKey);
  const token = first(env, S3_ENV.sessionToken);
  registerSecret(secret);
  registerSecret(token);
  const endpoint = first(env, S3_ENV.endpoint);
  return new Bun.S3Client({
    accessKeyId: first(env, S3_ENV.accessKeyId),
    secretAccessKey: secret,
    sessionToken: token,
    region: first(env, S3_ENV.region) ?? "us-east-1",
    bucket,
    ...(endpoint ? { endpoint } : {}),
  });
}

/** Codes of an S3 request that never got an answer (Bun's, and the system's). */
const UNREACHABLE = /^(ConnectionRefused|ConnectionReset|ConnectionClosed|FailedToOpenSocket|UnableToConnect|ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|DNS.*|Timeout.*|TLS.*|.*CERT.*)$/i;
const DENIED = new Set(["AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden", "InvalidToken", "ExpiredToken", "AllAccessDisabled", "AccountProblem"]);

/** A server's text, scrubbed of every secret and kept short (an error page may be long). */
function serverText(text: string): string {
  const clean = scrub(text.replace(/\s+/g, " ").trim());
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}

/** An S3 failure in words: access denied, no answer from the endpoint, no such bucket, or the server's code and message. */
export function describeS3Error(error: unknown, env: Env = process.env): string {
  const code = typeof (error as { code?: unknown })?.code === "string" ? (error as { code: string }).code : "";
  const message = serverText(String((error as Error)?.message ?? error));
  if (error instanceof S3Timeout) return `no answer from ${endpointOf(env)} within ${error.seconds} s`;
  if (DENIED.has(code)) return `access denied (${code}: ${message}): check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY and the bucket's policy`;
  if (code === "NoSuchBucket") return `no such bucket (${message})`;
  if (code === "NoSuchKey") return "no such object";
  if (UNREACHABLE.test(code)) {
    return `cannot reach ${endpointOf(env)} (${code || message}): is the endpoint right (LLMBENCH_S3_ENDPOINT, AWS_ENDPOINT_URL) and up?`;
  }
  return code ? `${code}: ${message}` : message;
}

/** An S3 request that did not finish in time (Bun's client has no timeout of its own). */
export class S3Timeout extends Error {
  constructor(readonly seconds: number) {
    super(`no answer within ${seconds} s`);
  }
}

/** How long one S3 request (or a pause in a download) may take before it counts as no answer. */
export const S3_REQUEST_TIMEOUT_S = 60;

export async function withDeadline<T>(work: Promise<T>, seconds = S3_REQUEST_TIMEOUT_S): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new S3Timeout(seconds)), seconds * 1000);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
