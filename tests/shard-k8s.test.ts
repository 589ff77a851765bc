/**
 * `llmbench k8s`: the manifest parsed offline, validated against the Kubernetes API schema
 * (kubernetes-models' validators, generated from the API's OpenAPI schema), its key fields checked,
 * and its pods' command run locally as the Job would run it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { Job } from "kubernetes-models/batch/v1/Job";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { freePort } from "../src/server/free-port.ts";
import { startFakeS3 } from "./helpers/fake-s3.ts";
import { DATASET, runCli, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

let mock: MockHandle;
beforeAll(async () => {
  mock = await startMock(["--ttft-ms", "10", "--itl-ms", "1"]);
});
afterAll(async () => {
  await mock?.stop();
});

type Obj = Record<string, any>;

async function manifest(...args: string[]): Promise<Obj[]> {
  const result = await runCli(["k8s", ...args]);
  if (result.exitCode !== 0) console.error(result.stderr);
  expect(result.exitCode).toBe(0);
  return Bun.YAML.parse(result.stdout) as Obj[];
}

test("an Indexed Job of N pods that are never retried, a headless Service and a ConfigMap", async () => {
  const objects = await manifest("--shards", "4", "--image", "registry.example/llmbench:1", "--name", "bench", "--namespace", "perf", "--results-pvc", "results", "--", "--base-url", "http://vllm:8000", "--model", "m", "--num-clients", "64", "--num-requests", "6400");
  expect(objects.map((o) => `${o.apiVersion} ${o.kind}`)).toEqual(["v1 ConfigMap", "v1 Service", "batch/v1 Job"]);
  const [config, service, job] = objects as [Obj, Obj, Obj];
  // the Kubernetes schema, offline: validate() throws naming the field that breaks it
  new ConfigMap(config as any).validate();
  new Service(service as any).validate();
  new Job(job as any).validate();
  for (const o of objects) expect(o.metadata.namespace).toBe("perf");
  expect(job.metadata.name).toBe("bench");
  expect(job.spec.completionMode).toBe("Indexed");
  expect(job.spec.completions).toBe(4);
  expect(job.spec.parallelism).toBe(4);
  expect(job.spec.backoffLimitPerIndex).toBe(0);
  const pod = job.spec.template.spec;
  expect(pod.restartPolicy).toBe("Never");
  expect(pod.subdomain).toBe(service.metadata.name);
  expect(service.spec.clusterIP).toBe("None");
  expect(service.spec.selector).toEqual({ "batch.kubernetes.io/job-name": "bench" });
  expect(service.spec.publishNotReadyAddresses).toBe(true);
  expect(service.spec.ports).toEqual([{ name: "rendezvous", port: 7700, protocol: "TCP" }]);
  const container = pod.containers[0];
  expect(container.image).toBe("registry.example/llmbench:1");
  expect(container.args.slice(0, 3)).toEqual(["run", "--base-url", "http://vllm:8000"]);
  expect(container.args.at(-1)).toBe("/results/bench/shard-$(LLMBENCH_SHARD_INDEX)");
  // pod 0 (hostname bench-0 in the Job's subdomain, the headless Service) is the rendezvous
  expect(container.args[container.args.indexOf("--rendezvous") + 1]).toBe("bench-0.bench:7700");
  expect(container.ports).toEqual([{ name: "rendezvous", containerPort: 7700 }]);
  const env = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.valueFrom]));
  expect(env.LLMBENCH_SHARD_INDEX.fieldRef.fieldPath).toBe("metadata.annotations['batch.kubernetes.io/job-completion-index']");
  expect(env.LLMBENCH_SHARD_COUNT.configMapKeyRef).toEqual({ name: config.metadata.name, key: "LLMBENCH_SHARD_COUNT" });
  expect(config.data.LLMBENCH_SHARD_COUNT).toBe("4");
  expect(JSON.parse(config.data["run-args.json"])).toEqual(["--base-url", "http://vllm:8000", "--model", "m", "--num-clients", "64", "--num-requests", "6400"]);
  expect(pod.volumes).toContainEqual({ name: "results", persistentVolumeClaim: { claimName: "results" } });
}, 30_000);

test("--upload: each pod copies its shard folder to S3 with credentials from a Secret, not from the manifest", async () => {
  const objects = await manifest("--shards", "2", "--image", "i", "--upload", "s3://bench-results/runs/", "--s3-secret", "bench-s3", "--", "--model", "m");
  const job = objects[2]!;
  new Job(job as any).validate();
  const container = job.spec.template.spec.containers[0];
  expect(container.args[container.args.indexOf("--upload") + 1]).toBe("s3://bench-results/runs");
  expect(container.envFrom).toEqual([{ secretRef: { name: "bench-s3" } }]);
  expect(JSON.stringify(objects)).not.toMatch(/AWS_SECRET_ACCESS_KEY"?\s*[:=]/);
  const bad = await runCli(["k8s", "--shards", "2", "--image", "i", "--upload", "http://x/y", "--", "--model", "m"]);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain("--upload: expected s3://bucket/prefix");
}, 30_000);

test("the schema check can fail: a Job with a mistyped field or a wrong mode is refused", async () => {
  const [, , job] = (await manifest("--shards", "2", "--image", "i", "--", "--model", "m")) as [Obj, Obj, Obj];
  expect(() => new Job({ ...job, spec: { ...job.spec, completions: "2" } } as any).validate()).toThrow("completions must be integer");
  expect(() => new Job({ ...job, spec: { ...job.spec, completionMode: "indexed" } } as any).validate()).toThrow("completionMode must be equal to one of the allowed values");
  const pod = job.spec.template.spec;
  expect(() => new Job({ ...job, spec: { ...job.spec, template: { ...job.spec.template, spec: { ...pod, containers: [{ ...pod.containers[0], ports: [{ containerPort: "7700" }] }] } } } } as any).validate()).toThrow("containerPort must be integer");
}, 30_000);

test("the pods' command, run here with the environment the Job gives each pod, makes shards that merge, from S3 as from their folders", async () => {
  const root = tempDir();
  const s3 = startFakeS3("AKIAPOD");
  try {
    const generated = await runCli(["k8s", "--shards", "2", "--image", "i", "--upload", "s3://bench-results/k8s", "--", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "4", "--num-clients", "4", "--num-requests", "10"]);
    expect(generated.exitCode).toBe(0);
    const objects = Bun.YAML.parse(generated.stdout) as Obj[];
    // the follow-up it prints: the merge of the run's prefix, the merged files beside the shards
    expect(generated.stderr).toContain("then, when the Job is complete: llmbench merge s3://bench-results/k8s --out s3://bench-results/k8s/merged");
    const job = objects[2]!;
    const container = job.spec.template.spec.containers[0];
    const count = objects[0]!.data.LLMBENCH_SHARD_COUNT;
    // the cluster's DNS gives pod 0's address for llmbench-0.llmbench; here that is 127.0.0.1
    const rendezvous = `127.0.0.1:${freePort()}`;
    expect(container.args).toContain("llmbench-0.llmbench:7700");
    // the Secret's keys, as envFrom gives them
    const secret = { AWS_ACCESS_KEY_ID: "AKIAPOD", AWS_SECRET_ACCESS_KEY: "pod-secret", LLMBENCH_S3_ENDPOINT: s3.url };
    const results = await Promise.all(
      [0, 1].map((index) => {
        // what the kubelet does: $(VAR) from the container's env, the results volume mounted at /results
        const args = (container.args as string[]).map((arg) => arg.replace("$(LLMBENCH_SHARD_INDEX)", String(index)).replace(/^\/results\//, `${root}/`).replace("llmbench-0.llmbench:7700", rendezvous));
        return runCli(args, { env: { LLMBENCH_SHARD_INDEX: String(index), JOB_COMPLETION_INDEX: String(index), LLMBENCH_SHARD_COUNT: count, ...secret } });
      }),
    );
    const uploaded = new Set(s3.objects.map((object) => object.key));
    for (const index of [0, 1]) for (const file of ["shard.json", "requests.jsonl", "summary.json"]) expect(uploaded.has(`k8s/shard-${index}/${file}`)).toBe(true);
    for (const result of results) expect(result.exitCode).toBe(0);
    const dirs = [0, 1].map((index) => join(root, "llmbench", `shard-${index}`));
    const second = await Bun.file(join(dirs[1]!, "shard.json")).json();
    expect(second.shard).toEqual({ index: 1, count: 2 });
    expect(second.clock.rendezvous).toBe(rendezvous);
    const merged = await runCli(["merge", ...dirs, "--out", join(root, "merged")]);
    expect(merged.exitCode).toBe(0);
    const local = await Bun.file(join(root, "merged", "summary.json")).json();
    expect(local.requests).toBe(10);

    // the printed merge, run as it is (the pods' folders here are not read: the shards come from S3)
    const fromS3 = await runCli(generated.stderr.trim().split(": ").at(-1)!.split(" ").slice(1), { env: secret });
    if (fromS3.exitCode !== 0) console.error(fromS3.stdout, fromS3.stderr);
    expect(fromS3.exitCode).toBe(0);
    expect(fromS3.stdout).toContain("s3://bench-results/k8s/: 2 shard folders (shard-0, shard-1)");
    const object = s3.objects.find((o) => o.key === "k8s/merged/summary.json");
    expect(object).toBeDefined();
    const remote = JSON.parse(Buffer.from(object!.body).toString("utf8"));
    const withoutDirs = (summary: Obj) => ({ ...summary, merged: { ...summary.merged, shards: summary.merged.shards.map(({ dir: _dir, ...shard }: Obj) => shard) } });
    expect(withoutDirs(remote)).toEqual(withoutDirs(local));
    expect(remote.merged.clock_offsets_ms).toEqual(local.merged.clock_offsets_ms);
  } finally {
    s3.stop();
  }
}, 90_000);

test("with a results claim, the printed merge reads the claim's shard folders; with neither, nothing is printed", async () => {
  const claim = await runCli(["k8s", "--shards", "3", "--image", "i", "--name", "bench", "--results-pvc", "results", "--", "--model", "m"]);
  expect(claim.exitCode).toBe(0);
  expect(claim.stderr).toContain("llmbench merge /results/bench/shard-0 /results/bench/shard-1 /results/bench/shard-2 --out /results/bench/merged");
  const container = (Bun.YAML.parse(claim.stdout) as Obj[])[2]!.spec.template.spec.containers[0];
  expect(container.args.at(-1)).toBe("/results/bench/shard-$(LLMBENCH_SHARD_INDEX)");
  const neither = await runCli(["k8s", "--shards", "2", "--image", "i", "--", "--model", "m"]);
  expect(neither.exitCode).toBe(0);
  expect(neither.stderr).toBe("");
}, 30_000);

test("flags the Job sets per pod are refused in the run's flags", async () => {
  const result = await runCli(["k8s", "--shards", "2", "--image", "i", "--", "--model", "m", "--shard", "0/2"]);
  expect(result.exitCode).toBe(2);
  expect(result.stderr).toContain("--shard is set by the Job for each pod");
  const noShards = await runCli(["k8s", "--image", "i", "--", "--model", "m"]);
  expect(noShards.exitCode).toBe(2);
  expect(noShards.stderr).toContain("--shards is required");
}, 30_000);
