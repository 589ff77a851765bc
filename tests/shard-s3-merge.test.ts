/**
 * `llmbench merge s3://…`: shards run with --upload into a small S3-compatible store of our own on
 * 127.0.0.1 (tests/helpers/fake-s3.ts), against one simulator; the merge read from S3 equals the
 * merge of the local folders, refuses what a local merge refuses, and says what failed (a prefix
 * with no shard, a refusal, an endpoint that does not answer) without ever showing the secret or
 * the session token, even when the server echoes them back.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { freePort } from "../src/server/free-port.ts";
import { startFakeS3, type FakeS3 } from "./helpers/fake-s3.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const ACCESS_KEY = "AKIAMERGETEST";
const SECRET = "merge-secret-never-printed-9876543210";
const TOKEN = "merge-session-token-never-printed-ABCDEFGH";
const BUCKET = "bench-results";

let mock: MockHandle;
let s3: FakeS3;
let root: string;
let truthPath: string;
let shardDirs: string[];
beforeAll(async () => {
  root = tempDir();
  truthPath = join(root, "truth.jsonl");
  mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--truth-log", truthPath]);
  s3 = startFakeS3(ACCESS_KEY);
  shardDirs = await runShards("run-1", 3);
});
afterAll(async () => {
  await mock?.stop();
  s3?.stop();
});

const env = (overrides: Record<string, string> = {}) => ({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_SESSION_TOKEN: TOKEN, AWS_REGION: "eu-west-1", LLMBENCH_S3_ENDPOINT: s3.url, ...overrides });

/** N shards, as a Job's pods run them, each uploading its folder to s3://bench-results/<name>/shard-K/. */
async function runShards(name: string, count: number): Promise<string[]> {
  const startAt = Date.now() + 3000;
  const dirs = Array.from({ length: count }, (_, index) => join(root, name, `shard-${index}`));
  const results = await Promise.all(
    dirs.map((dir, index) =>
      runCli(
        ["run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "4", "--num-clients", "6", "--num-requests", "30", "--seed", "7",
          "--result-dir", dir, "--no-progress", "--shard", `${index}/${count}`, "--start-at", String(startAt), "--start-tolerance", "30", "--upload", `s3://${BUCKET}/${name}`],
        { env: env() },
      ),
    ),
  );
  for (const result of results) {
    if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
    expect(result.exitCode).toBe(0);
  }
  return dirs;
}

async function merge(args: string[], options: { env?: Record<string, string> } = {}) {
  const result = await runCli(["merge", ...args], { env: options.env ?? env() });
  expect(result.stdout + result.stderr).not.toContain(SECRET);
  expect(result.stdout + result.stderr).not.toContain(TOKEN);
  return result;
}

/** summary.json without the folders' names (a path here, a URL there). */
function comparable(summary: Record<string, any>) {
  return { ...summary, merged: { ...summary.merged, shards: summary.merged.shards.map(({ dir: _dir, ...shard }: Record<string, unknown>) => shard) } };
}

test("merging the shards' uploaded prefixes gives the summary merging their local folders gives", async () => {
  const local = await merge([...shardDirs, "--out", join(root, "merged-local")]);
  expect(local.exitCode).toBe(0);
  // the run's prefix: its shard-K folders are the shards
  const fromPrefix = await merge([`s3://${BUCKET}/run-1`, "--out", join(root, "merged-s3")]);
  if (fromPrefix.exitCode !== 0) console.error(fromPrefix.stdout, fromPrefix.stderr);
  expect(fromPrefix.exitCode).toBe(0);
  expect(fromPrefix.stdout).toContain(`s3://${BUCKET}/run-1/: 3 shard folders (shard-0, shard-1, shard-2)`);
  expect(fromPrefix.stdout).toContain("merged 3 of 3 shards");
  const a = await Bun.file(join(root, "merged-local", "summary.json")).json();
  const b = await Bun.file(join(root, "merged-s3", "summary.json")).json();
  expect(comparable(b)).toEqual(comparable(a));
  expect(b.merged.shards.map((shard: { dir: string }) => shard.dir)).toEqual([0, 1, 2].map((index) => `s3://${BUCKET}/run-1/shard-${index}`));
  expect(readFileSync(join(root, "merged-s3", "summary.csv"), "utf8")).toBe(readFileSync(join(root, "merged-local", "summary.csv"), "utf8"));
  // every request the simulator answered, once
  expect(b.requests).toBe(30);
  expect((await readJsonl(truthPath)).length).toBe(30);
  // read from S3, not from the folders here: every shard's records were downloaded
  for (const index of [0, 1, 2]) expect(s3.reads).toContain(`${BUCKET}/run-1/shard-${index}/requests.jsonl`);
}, 120_000);

test("the shards' own prefixes, with --out s3://: the merged files are uploaded there, nothing kept here", async () => {
  const before = s3.objects.length;
  const tmp = join(root, "tmp");
  mkdirSync(tmp);
  const result = await merge([0, 1, 2].map((index) => `s3://${BUCKET}/run-1/shard-${index}/`).concat(["--out", `s3://${BUCKET}/run-1/merged`]), { env: env({ TMPDIR: tmp }) });
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain(`summary in s3://${BUCKET}/run-1/merged/ (2 files)`);
  const uploaded = s3.objects.slice(before);
  expect(uploaded.map((object) => object.key).sort()).toEqual(["run-1/merged/summary.csv", "run-1/merged/summary.json"]);
  // the files were written to a temporary folder first, removed once uploaded
  expect(readdirSync(tmp)).toEqual([]);
  const summary = JSON.parse(Buffer.from(uploaded.find((object) => object.key.endsWith(".json"))!.body).toString("utf8"));
  expect(comparable(summary)).toEqual(comparable(await Bun.file(join(root, "merged-local", "summary.json")).json()));
  // a merged folder beside the shards is not taken for one when the run's prefix is merged again
  const again = await merge([`s3://${BUCKET}/run-1`, "--out", join(root, "merged-again")]);
  expect(again.exitCode).toBe(0);
  expect(again.stdout).toContain("3 shard folders (shard-0, shard-1, shard-2)");
}, 60_000);

test("a shard missing from S3: exit 2 naming it; --allow-partial merges the rest and says so", async () => {
  // run-2 holds what run-1 holds, but shard 1 never arrived
  for (const object of s3.objects.filter((o) => o.key.startsWith("run-1/shard-") && !o.key.startsWith("run-1/shard-1/"))) {
    s3.objects.push({ ...object, key: object.key.replace("run-1/", "run-2/") });
  }
  const refused = await merge([`s3://${BUCKET}/run-2`, "--out", join(root, "partial")]);
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr).toContain("shard 1/3 is missing");
  expect(refused.stderr).toContain("--allow-partial");
  expect(existsSync(join(root, "partial", "summary.json"))).toBe(false);
  const partial = await merge([`s3://${BUCKET}/run-2`, "--out", join(root, "partial"), "--allow-partial"]);
  expect(partial.exitCode).toBe(0);
  expect(partial.stdout).toContain("partial merge: shard 1/3 missing");
  expect(partial.stdout).toContain("merged 2 of 3 shards");
  const summary = await Bun.file(join(root, "partial", "summary.json")).json();
  expect(summary.merged.partial).toBe(true);
  expect(summary.merged.missing).toEqual([1]);
  const expected = [0, 2].reduce((sum, index) => sum + JSON.parse(readFileSync(join(shardDirs[index]!, "shard.json"), "utf8")).counts.records, 0);
  expect(summary.requests).toBe(expected);
}, 60_000);

test("a shard folder left in the prefix by an earlier run of the same plan is refused, named", async () => {
  for (const object of s3.objects.filter((o) => o.key.startsWith("run-1/shard-"))) {
    let body = object.body;
    if (object.key === "run-1/shard-1/shard.json") {
      const file = JSON.parse(Buffer.from(body).toString("utf8"));
      // what shard 1 of a run an hour earlier left there
      file.planned_start_ms -= 3_600_000;
      file.actual_start_ms -= 3_600_000;
      body = new TextEncoder().encode(JSON.stringify(file));
    }
    s3.objects.push({ ...object, key: object.key.replace("run-1/", "run-3/"), body });
  }
  const result = await merge([`s3://${BUCKET}/run-3`, "--out", join(root, "stale"), "--allow-partial"]);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain("s apart, so they are not one run of the point (a folder left from an earlier run?)");
  expect(result.stderr).toContain(`shard 1/3 (s3://${BUCKET}/run-3/shard-1) at`);
  expect(existsSync(join(root, "stale", "summary.json"))).toBe(false);
}, 60_000);

test("a prefix with no shard, a refusal, a wrong key, an endpoint that does not answer: exit 2 naming the prefix, no secret shown", async () => {
  const empty = await merge([`s3://${BUCKET}/nothing-here`]);
  expect(empty.exitCode).toBe(2);
  expect(empty.stderr).toContain(`merge: s3://${BUCKET}/nothing-here/: no shard.json there, and no folder under it`);

  // the server's refusal echoes the request's headers (the session token) and the secret: neither is shown
  s3.echo = `secret=${SECRET}`;
  s3.denied.push(`${BUCKET}/run-1/shard-1`);
  try {
    const denied = await merge([`s3://${BUCKET}/run-1`, "--out", join(root, "denied")]);
    expect(denied.exitCode).toBe(2);
    expect(denied.stderr).toContain(`merge: s3://${BUCKET}/run-1/shard-1/shard.json: cannot be read: access denied (AccessDenied`);
    // both were echoed: the message shows where they were
    expect(denied.stderr).toContain("secret=<redacted> token=<redacted>");
    const wrongKey = await merge([`s3://${BUCKET}/run-1/shard-0`], { env: env({ AWS_ACCESS_KEY_ID: "AKIAWRONG" }) });
    expect(wrongKey.exitCode).toBe(2);
    expect(wrongKey.stderr).toContain(`merge: s3://${BUCKET}/run-1/shard-0/: cannot be listed: access denied`);
  } finally {
    s3.echo = "";
    s3.denied.length = 0;
  }

  const port = freePort();
  const unreachable = await merge([`s3://${BUCKET}/run-1`], { env: env({ LLMBENCH_S3_ENDPOINT: `http://127.0.0.1:${port}` }) });
  expect(unreachable.exitCode).toBe(2);
  expect(unreachable.stderr).toContain(`merge: s3://${BUCKET}/run-1/: cannot be listed: cannot reach http://127.0.0.1:${port}`);

  const noKeys = await merge([`s3://${BUCKET}/run-1`], { env: env({ AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" }) });
  expect(noKeys.exitCode).toBe(2);
  expect(noKeys.stderr).toContain(`merge s3://${BUCKET}/run-1: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment`);
  const badUrl = await merge(["s3://B/x"]);
  expect(badUrl.exitCode).toBe(2);
  expect(badUrl.stderr).toContain("merge: expected s3://bucket/prefix");
}, 60_000);

test("--out s3:// refused: exit 5, the merged summary kept here and named", async () => {
  s3.denied.push(`${BUCKET}/locked`);
  try {
    const result = await merge([`s3://${BUCKET}/run-1`, "--out", `s3://${BUCKET}/locked/merged`]);
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain(`--out: upload of`);
    expect(result.stderr).toContain(`to s3://${BUCKET}/locked/merged/summary.csv failed: access denied`);
    const kept = /the merged summary is kept in (\S+)\)/.exec(result.stderr)?.[1];
    expect(kept).toBeDefined();
    expect((await Bun.file(join(kept!, "summary.json")).json()).requests).toBe(30);
  } finally {
    s3.denied.length = 0;
  }
}, 60_000);
