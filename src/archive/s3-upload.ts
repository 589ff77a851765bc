/**
 * `--upload s3://bucket/prefix`: a finished run's folder copied to S3 (or an S3-compatible store)
 * with Bun's built-in S3 client, as s3://bucket/prefix/<folder name>/<path in the folder>. The
 * credentials come from the standard AWS environment variables and are registered as secrets,
 * so no error message, log or file carries them.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, join, sep } from "node:path";
import { registerSecret } from "../records/scrub.ts";

/** Exit code of a run that measured but whose upload failed. */
export const UPLOAD_FAILED_EXIT_CODE = 5;

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

type Env = Record<string, string | undefined>;

/** s3://bucket/prefix, or a message saying what was expected. */
export function parseS3Url(text: string): S3Location | string {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(text.trim());
  if (!match) return `expected s3://bucket/prefix (a bucket name of 3-63 lower-case letters, digits, dots and dashes), got "${text}"`;
  return { bucket: match[1]!, prefix: (match[2] ?? "").replace(/^\/+|\/+$/g, "") };
}

function first(env: Env, names: readonly string[]): string | undefined {
  for (const name of names) if (env[name]) return env[name];
  return undefined;
}

/** What is missing for an upload, in words; null when the environment has what it needs. */
export function missingCredentials(env: Env): string | null {
  const missing = [S3_ENV.accessKeyId[0], S3_ENV.secretAccessKey[0]].filter((name) => !env[name]);
  return missing.length === 0 ? null : `set ${missing.join(" and ")} in the environment (the credentials are read from there only)`;
}

export function s3Url(location: S3Location, key = ""): string {
  return `s3://${location.bucket}/${[location.prefix, key].filter(Boolean).join("/")}`;
}

/** Every file under `dir`, depth first, by its path relative to `dir` with "/" separators. */
function filesUnder(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: false }) as string[]) {
    if (statSync(join(dir, entry)).isFile()) files.push(entry.split(sep).join("/"));
  }
  return files.sort();
}

export interface UploadResult {
  url: string;
  files: number;
  bytes: number;
}

/** Uploads every file of `dir` under s3://bucket/prefix/<dir's name>/. Throws with the key that failed. */
export async function uploadFolder(dir: string, location: S3Location, env: Env = process.env): Promise<UploadResult> {
  const secret = first(env, S3_ENV.secretAccessKey);
  const token = first(env, S3_ENV.sessionToken);
  registerSecret(secret);
  registerSecret(token);
  const endpoint = first(env, S3_ENV.endpoint);
  const client = new Bun.S3Client({
    accessKeyId: first(env, S3_ENV.accessKeyId),
    secretAccessKey: secret,
    sessionToken: token,
    region: first(env, S3_ENV.region) ?? "us-east-1",
    bucket: location.bucket,
    ...(endpoint ? { endpoint } : {}),
  });
  const folder = [location.prefix, basename(dir)].filter(Boolean).join("/");
  let bytes = 0;
  const files = filesUnder(dir);
  for (const file of files) {
    const key = `${folder}/${file}`;
    const local = Bun.file(join(dir, file));
    try {
      bytes += await client.write(key, local, { type: file.endsWith(".json") ? "application/json" : file.endsWith(".html") ? "text/html" : "application/octet-stream" });
    } catch (error) {
      throw new Error(`upload of ${join(dir, file)} to s3://${location.bucket}/${key} failed: ${(error as Error)?.message ?? error}`);
    }
  }
  return { url: `s3://${location.bucket}/${folder}/`, files: files.length, bytes };
}
