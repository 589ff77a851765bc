/**
 * `--upload s3://bucket/prefix`: a finished run's folder copied to S3 (or an S3-compatible store)
 * with Bun's built-in S3 client, as s3://bucket/prefix/<folder name>/<path in the folder>. The
 * credentials come from the standard AWS environment variables and are registered as secrets,
 * so no error message, log or file carries them.
 */
import { readdirSync, statSync } from "node:fs";
import { basename, join, sep } from "node:path";
import { describeS3Error, s3ClientFor, under, withDeadline, type Env, type S3Location } from "./s3-client.ts";

export { missingCredentials, parseS3Url, S3_ENV, s3Url, type S3Location } from "./s3-client.ts";

/** Exit code of a run that measured but whose upload failed. */
export const UPLOAD_FAILED_EXIT_CODE = 5;

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
export function uploadFolder(dir: string, location: S3Location, env: Env = process.env): Promise<UploadResult> {
  return uploadFolderTo(dir, under(location, basename(dir)), env);
}

/** Uploads every file of `dir` under exactly s3://bucket/prefix/. Throws with the key that failed (and why, without a secret). */
export async function uploadFolderTo(dir: string, location: S3Location, env: Env = process.env): Promise<UploadResult> {
  const client = s3ClientFor(location.bucket, env);
  let bytes = 0;
  const files = filesUnder(dir);
  for (const file of files) {
    const key = [location.prefix, file].filter(Boolean).join("/");
    const local = Bun.file(join(dir, file));
    try {
      // a guard against an endpoint that stops answering, not a speed limit: a minute, plus a second per 100 kB
      bytes += await withDeadline(client.write(key, local, { type: file.endsWith(".json") ? "application/json" : file.endsWith(".html") ? "text/html" : "application/octet-stream" }), 60 + Math.ceil(local.size / 1e5));
    } catch (error) {
      throw new Error(`upload of ${join(dir, file)} to s3://${location.bucket}/${key} failed: ${describeS3Error(error, env)}`);
    }
  }
  return { url: `s3://${location.bucket}/${location.prefix ? `${location.prefix}/` : ""}`, files: files.length, bytes };
}
