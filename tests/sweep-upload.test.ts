/**
 * `sweep --upload s3://bucket/prefix` and its config field `output.upload`: the run's folder, every
 * point's files (a point's workers' shard folders too), copied when the sweep ends to a small
 * S3-compatible store of our own on 127.0.0.1 under the archive's own layout; bad values and
 * missing credentials are usage errors naming the field or flag before any request.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { startFakeS3, type FakeS3 } from "./helpers/fake-s3.ts";
import { writeRunningSweepConfig } from "./helpers/sweep-config.ts";
import { readJsonl, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

const ACCESS_KEY = "AKIASWEEPTEST";
const SECRET = "sweep-secret-never-printed-1234567890";
const BUCKET = "bench-results";

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

const env = (overrides: Record<string, string> = {}) => ({ AWS_ACCESS_KEY_ID: ACCESS_KEY, AWS_SECRET_ACCESS_KEY: SECRET, AWS_REGION: "eu-west-1", LLMBENCH_S3_ENDPOINT: s3.url, ...overrides });

function writeConfig(name: string, output: Record<string, unknown>): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return writeRunningSweepConfig(join(dir, "bench.config.ts"), mock.url, { outputLen: 4, sweep: { clients: [1, 2], rampUpS: 0, numRequests: 6, drainTimeoutS: 10, seed: 3 }, output });
}

function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((entry) => statSync(join(dir, entry)).isFile()).map((entry) => entry.split("\\").join("/")).sort();
}

function runDirOf(resultRoot: string): string {
  const date = readdirSync(resultRoot).find((entry) => /^\d{4}-/.test(entry))!;
  return join(resultRoot, date, readdirSync(join(resultRoot, date))[0]!);
}

test("output.upload: the run's folder lands under <prefix>/<date>/<run>/ when the sweep ends, every file as written, the secret nowhere", async () => {
  const config = writeConfig("from-config", { dir: "result", upload: `s3://${BUCKET}/sweeps/` });
  const before = s3.objects.length;
  const result = await runCli(["sweep", config, "--workers", "2", "--no-progress", "--no-doctor"], { env: env(), timeoutMs: 100_000 });
  if (result.exitCode !== 0) console.error(result.stdout, result.stderr);
  expect(result.exitCode).toBe(0);
  const resultRoot = join(root, "from-config", "result");
  const runDir = runDirOf(resultRoot);
  const name = relative(resultRoot, runDir).split("\\").join("/");
  expect(result.stdout).toContain(`to s3://${BUCKET}/sweeps/${name}/`);
  const uploaded = s3.objects.slice(before);
  const local = filesUnder(runDir);
  // the points, their workers' shard folders, the sweep's summary, run.json and report: all of it
  for (const file of ["run.json", "config.resolved.json", "01_clients-1/summary.json", "02_clients-2/summary.json", "02_clients-2/workers/worker-1/requests.jsonl", "02_clients-2/workers/worker-1/shard.json"]) expect(local).toContain(file);
  expect(uploaded.map((object) => object.key).sort()).toEqual(local.map((file) => `sweeps/${name}/${file}`));
  for (const object of uploaded) {
    expect(object.bucket).toBe(BUCKET);
    expect(Buffer.from(object.body).equals(readFileSync(join(runDir, object.key.slice(`sweeps/${name}/`.length))))).toBe(true);
  }
  // uploaded once the sweep was over: run.json as it ended
  const info = JSON.parse(Buffer.from(uploaded.find((object) => object.key.endsWith("/run.json"))!.body).toString("utf8"));
  expect(info.status).toBe("completed");
  expect(result.stdout + result.stderr).not.toContain(SECRET);
  expect((await readJsonl(truthPath)).length).toBe(12);
  // the uploaded workers' folders are shards that merge from S3 into the point the sweep archived
  const merged = await runCli(["merge", `s3://${BUCKET}/sweeps/${name}/02_clients-2/workers`, "--out", join(root, "from-config", "merged")], { env: env() });
  if (merged.exitCode !== 0) console.error(merged.stdout, merged.stderr);
  expect(merged.exitCode).toBe(0);
  const point = JSON.parse(readFileSync(join(runDir, "02_clients-2", "summary.json"), "utf8"));
  const again = await Bun.file(join(root, "from-config", "merged", "summary.json")).json();
  for (const key of ["requests", "completed", "failed", "total_outlen", "duration_s", "mean_ttft", "p99_ttft", "mean_itl", "o_tps"]) {
    expect(point[key]).toBeDefined();
    expect(again[key]).toEqual(point[key]);
  }
  expect(again.requests).toBe(6);
}, 120_000);

test("--upload overrides output.upload; a refused upload exits 5 with the results kept and named", async () => {
  const config = writeConfig("flag", { dir: "result", upload: `s3://${BUCKET}/from-config` });
  const before = s3.objects.length;
  s3.denied.push(`${BUCKET}/locked`);
  try {
    const result = await runCli(["sweep", config, "--clients", "1", "--upload", `s3://${BUCKET}/locked`, "--no-progress", "--no-doctor"], { env: env(), timeoutMs: 100_000 });
    expect(result.exitCode).toBe(5);
    expect(result.stderr).toContain(`llmbench: --upload: upload of`);
    expect(result.stderr).toContain(`to s3://${BUCKET}/locked/`);
    expect(result.stderr).toContain("failed: access denied");
    const runDir = runDirOf(join(root, "flag", "result"));
    expect(result.stderr).toContain(`(the results are kept in ${runDir})`);
    expect(existsSync(join(runDir, "01_clients-1", "summary.json"))).toBe(true);
    expect(s3.objects.slice(before).filter((object) => object.key.startsWith("from-config/"))).toEqual([]);
    expect(result.stdout + result.stderr).not.toContain(SECRET);
  } finally {
    s3.denied.length = 0;
  }
}, 120_000);

test("a bad output.upload or --upload, or no credentials: exit 2 naming the field or flag, before any request", async () => {
  const before = (await readJsonl(truthPath)).length;
  const badField = await runCli(["sweep", writeConfig("bad-field", { upload: "https://bucket/x" }), "--no-progress", "--no-doctor"], { env: env() });
  expect(badField.exitCode).toBe(2);
  expect(badField.stderr).toContain("output.upload: expected s3://bucket/prefix");
  const good = writeConfig("good", { upload: `s3://${BUCKET}/x` });
  const badFlag = await runCli(["sweep", good, "--upload", "s3:/nope", "--no-progress", "--no-doctor"], { env: env() });
  expect(badFlag.exitCode).toBe(2);
  expect(badFlag.stderr).toContain("--upload: expected s3://bucket/prefix");
  const noKeys = await runCli(["sweep", good, "--no-progress", "--no-doctor"], { env: env({ AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" }) });
  expect(noKeys.exitCode).toBe(2);
  expect(noKeys.stderr).toContain(`output.upload s3://${BUCKET}/x: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the environment`);
  const noKeysFlag = await runCli(["sweep", good, "--upload", `s3://${BUCKET}/y`, "--no-progress", "--no-doctor"], { env: env({ AWS_SECRET_ACCESS_KEY: "" }) });
  expect(noKeysFlag.exitCode).toBe(2);
  expect(noKeysFlag.stderr).toContain(`--upload s3://${BUCKET}/y: set AWS_SECRET_ACCESS_KEY in the environment`);
  expect((await readJsonl(truthPath)).length).toBe(before);
  expect(existsSync(join(root, "good", "result"))).toBe(false);
}, 60_000);
