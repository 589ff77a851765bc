/**
 * Shard folders in S3 (what `--upload` leaves: s3://bucket/prefix/<folder>/...), read with Bun's
 * built-in S3 client, streamed like local files. A prefix is a shard's folder when it holds a
 * shard.json; otherwise the folders just under it that hold one are the shards (a Job's
 * s3://bucket/run-42/shard-K/, as `ls run-42/shard-*` would give them locally).
 */
import { SHARD_FILE } from "../archive/shard-file.ts";
import { describeS3Error, s3ClientFor, s3Url, under, withDeadline, type Env, type S3Location } from "../archive/s3-client.ts";
import { UsageError } from "../config/usage-error.ts";
import { linesOf, type ShardSource } from "./shard-source.ts";

/** Listing pages (of up to 1000 entries) read under one prefix before giving up: the folders there are bounded. */
const MAX_LIST_PAGES = 100;

export interface S3Shards {
  /** The prefix given, as s3://bucket/prefix. */
  url: string;
  sources: ShardSource[];
  /** True when the prefix held no shard.json itself and its sub-folders were taken. */
  nested: boolean;
}

/** The shard folders at or just under `location`; a UsageError naming the prefix when there are none or S3 refuses. */
export async function s3ShardSources(location: S3Location, env: Env = process.env): Promise<S3Shards> {
  const client = s3ClientFor(location.bucket, env);
  const url = s3Url(location);
  const level = await listLevel(client, location, env);
  if (level.files.includes(SHARD_FILE)) return { url, sources: [s3Source(client, location, env)], nested: false };
  const shards: ShardSource[] = [];
  for (const folder of level.folders) {
    const shard = s3Source(client, under(location, folder), env);
    // a GET, not a HEAD: a refusal then says why (a HEAD's answer has no body)
    if ((await shard.readText(SHARD_FILE)) !== null) shards.push(shard);
  }
  if (shards.length === 0) {
    const looked = level.folders.length === 0 ? "and no folder under it" : `nor in the ${level.folders.length} folder${level.folders.length === 1 ? "" : "s"} just under it`;
    throw new UsageError(`merge: ${url}/: no ${SHARD_FILE} there, ${looked} (not a shard's uploaded folder: llmbench run --shard K/N --upload s3://bucket/prefix)`);
  }
  return { url, sources: shards, nested: true };
}

/** The names of the files and folders directly under the prefix. */
async function listLevel(client: Bun.S3Client, location: S3Location, env: Env): Promise<{ files: string[]; folders: string[] }> {
  const prefix = location.prefix ? `${location.prefix}/` : "";
  const files: string[] = [];
  const folders: string[] = [];
  let continuationToken: string | undefined;
  for (let page = 0; ; page++) {
    if (page === MAX_LIST_PAGES) throw new UsageError(`merge: ${s3Url(location)}/: more than ${MAX_LIST_PAGES * 1000} entries under it: give the shards' own prefixes`);
    let listed: Awaited<ReturnType<Bun.S3Client["list"]>>;
    try {
      listed = await withDeadline(client.list({ prefix, delimiter: "/", ...(continuationToken ? { continuationToken } : {}) }));
    } catch (error) {
      throw new UsageError(`merge: ${s3Url(location)}/: cannot be listed: ${describeS3Error(error, env)}`);
    }
    for (const object of listed.contents ?? []) files.push(object.key.slice(prefix.length));
    for (const common of listed.commonPrefixes ?? []) folders.push(common.prefix.slice(prefix.length).replace(/\/$/, ""));
    if (!listed.isTruncated || !listed.nextContinuationToken) break;
    continuationToken = listed.nextContinuationToken;
  }
  return { files, folders: folders.sort() };
}

function s3Source(client: Bun.S3Client, location: S3Location, env: Env): ShardSource {
  const keyOf = (file: string) => [location.prefix, file].filter(Boolean).join("/");
  const pathOf = (file: string) => s3Url(location, file);
  return {
    name: s3Url(location),
    pathOf,
    async readText(file) {
      try {
        return await withDeadline(client.file(keyOf(file)).text());
      } catch (error) {
        if ((error as { code?: string }).code === "NoSuchKey") return null;
        throw new UsageError(`merge: ${pathOf(file)}: cannot be read: ${describeS3Error(error, env)}`);
      }
    },
    lines(file) {
      return linesOf(chunksOf(client.file(keyOf(file)).stream(), pathOf(file), env));
    },
  };
}

/** The download's chunks; a pause longer than the request deadline, or a failure, is a UsageError naming the object. */
async function* chunksOf(stream: ReadableStream<Uint8Array>, path: string, env: Env): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await withDeadline(reader.read());
      } catch (error) {
        throw new UsageError(`merge: ${path}: cannot be read: ${describeS3Error(error, env)}`);
      }
      if (read.done) {
        done = true;
        return;
      }
      yield read.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
  }
}
