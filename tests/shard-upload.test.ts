/**
 * `run --upload s3://bucket/prefix`: the result folder copied with Bun's S3 client to a small
 * S3-compatible store of our own on 127.0.0.1 (tests/helpers/fake-s3.ts), signed with SigV4 from
 * the standard AWS variables, whose secret reaches no output line and no file.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { startFakeS3, type FakeS3 } from "./helpers/fake-s3.ts";
import { DATASET, readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const ACCESS_KEY = "AKIALLMBENCHTEST";
const SECRET = "s3-secret-never-printed-0123456789";

let mock: MockHandle;
let s3: FakeS3;
let root: string;
let truthPath: string;
beforeAll(async () => {
  root = tempDir();
  truthPath = join(root, "truth.jsonl");
  mock = await startMock(["--ttft-ms", "5", "--itl-ms", "1", "--truth-log", truthPath]);
  s3 = startFakeS3(ACCESS_KEY);
});
afterAll(async () => {
  await mock?.stop();
  s3?.stop();
});

const runArgs = (dir: string, upload: string) => ["run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "4", "--num-clients", "2", "--num-requests", "6", "--result-dir", dir, "--no-progress", "--upload", upload];
const env = (accessKey = ACCESS_KEY) => ({ AWS_ACCESS_KEY_ID: accessKey, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: "eu-west-1", LLMBENCH_S3_ENDPOINT: s3.url });

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((entry) => statSync(join(dir, entry)).isFile()).sort();
}

test("the result folder lands under s3://bucket/prefix/<folder>/, every file as written, signed, the secret nowhere", async () => {
  const dir = join(root, "shard-1");
  const result = await runCli([...runArgs(dir, "s3://bench-results/team/run-7"), "--shard", "1/2"], { env: env() });
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  expect(result.exitCode).toBe(0);
  expect(result.stdout).toContain("to s3://bench-results/team/run-7/shard-1/");
  const keys = s3.objects.map((object) => object.key).sort();
  const local = filesUnder(dir);
  expect(local).toContain("shard.json");
  expect(local).toContain("requests.jsonl");
  expect(keys).toEqual(local.map((file) => `team/run-7/${basename(dir)}/${file}`));
  for (const object of s3.objects) {
    expect(object.bucket).toBe("bench-results");
    expect(Buffer.from(object.body).equals(readFileSync(join(dir, object.key.slice(`team/run-7/${basename(dir)}/`.length))))).toBe(true);
    // SigV4 for the access key and region given, the secret itself never sent
    expect(object.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=${ACCESS_KEY}/\\d{8}/eu-west-1/s3/aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$`));
    expect(Buffer.from(object.body).toString("latin1")).not.toContain(SECRET);
  }
  expect(s3.refused).toEqual([]);
  expect(result.stdout + result.stderr).not.toContain(SECRET);
  const shard = JSON.parse(readFileSync(join(dir, "shard.json"), "utf8"));
  expect(shard.counts.records).toBe(3);
  expect((await readJsonl(join(dir, "requests.jsonl"))).length).toBe(3);
}, 60_000);

test("a refused upload: exit 5 naming the key, the results kept here, the secret nowhere", async () => {
  const dir = join(root, "refused");
  const before = s3.refused.length;
  const result = await runCli(runArgs(dir, "s3://bench-results/x"), { env: env("AKIAWRONGKEY") });
  expect(result.exitCode).toBe(5);
  expect(result.stderr).toContain("--upload: upload of");
  expect(result.stderr).toContain("to s3://bench-results/x/refused/");
  expect(result.stderr).toContain(`(the results are kept in ${dir})`);
  expect(s3.refused.length).toBeGreaterThan(before);
  expect(result.stdout + result.stderr).not.toContain(SECRET);
  expect(readFileSync(join(dir, "summary.json"), "utf8")).not.toContain(SECRET);
}, 60_000);

test("--upload without credentials or with a bad URL is a usage error before any request", async () => {
  const before = (await readJsonl(truthPath)).length;
  const noKeys = await runCli(runArgs(join(root, "nokeys"), "s3://bench-results/x"), { env: { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" } });
  expect(noKeys.exitCode).toBe(2);
  expect(noKeys.stderr).toContain("--upload s3://bench-results/x: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment");
  const badUrl = await runCli(runArgs(join(root, "badurl"), "https://bucket/x"), { env: env() });
  expect(badUrl.exitCode).toBe(2);
  expect(badUrl.stderr).toContain("--upload: expected s3://bucket/prefix");
  expect((await readJsonl(truthPath)).length).toBe(before);
}, 60_000);
