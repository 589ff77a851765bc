import type { CAC } from "cac";
import { writeFileSync } from "node:fs";
import * as flag from "../config/flag-values.ts";
import type { RawFlags } from "../config/run-options.ts";
import { UsageError } from "../config/usage-error.ts";
import { parseS3Url, s3Url } from "../archive/s3-upload.ts";
import { manifestYaml, mergeCommand, shardManifest, type ManifestSpec } from "../k8s/manifest.ts";

const SET_BY_THE_JOB = ["--shard", "--result-dir", "--rendezvous", "--upload"];

export function registerK8s(cli: CAC): void {
  cli
    .command("k8s", "Write the Kubernetes manifest (Indexed Job, headless Service, ConfigMap) that runs a point as N shards: llmbench k8s --shards N --image IMG -- <run flags>")
    .option("--shards <n>", "Shards (pods) of the point")
    .option("--image <image>", "Container image holding the llmbench executable")
    .option("--binary <path>", "The executable inside the image (default llmbench)")
    .option("--name <name>", "Name of the Job, Service and ConfigMap (default llmbench)")
    .option("--namespace <ns>", "Namespace of the objects")
    .option("--results-pvc <claim>", "PersistentVolumeClaim the shards write their folders to (default: an emptyDir, copy them out)")
    .option("--upload <s3-url>", "Each pod copies its shard folder to <s3-url>/shard-K/ at the end (s3://bucket/prefix)")
    .option("--s3-secret <name>", "Secret holding AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_REGION, LLMBENCH_S3_ENDPOINT) for --upload (default llmbench-s3)")
    .option("-o, --output <file>", "Write the manifest here instead of stdout")
    .action((flags: RawFlags) => {
      const runArgs = ((flags["--"] as unknown[] | undefined) ?? []).map(String);
      if (runArgs.length === 0) throw new UsageError("k8s: give the run's flags after --, e.g. llmbench k8s --shards 4 --image IMG -- --base-url http://svc:8000 --model m --num-clients 64 --num-requests 6400");
      for (const arg of runArgs) {
        const name = arg.split("=")[0]!;
        if (SET_BY_THE_JOB.includes(name)) throw new UsageError(`k8s: ${name} is set by the Job for each pod: drop it from the run's flags`);
      }
      const name = flag.text("--name", flags.name, "llmbench");
      if (!/^[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?$/.test(name)) throw new UsageError(`--name: expected a DNS label (lower-case letters, digits and -), got "${name}"`);
      const spec: ManifestSpec = {
        name,
        namespace: flags.namespace === undefined ? null : flag.text("--namespace", flags.namespace),
        shards: flag.positiveInteger("--shards", flags.shards),
        image: flag.text("--image", flags.image),
        binary: flag.text("--binary", flags.binary, "llmbench"),
        runArgs,
        resultsClaim: flags.resultsPvc === undefined ? null : flag.text("--results-pvc", flags.resultsPvc),
        upload: uploadOf(flags),
        // a fixed --start-at in the run's flags is the barrier then; else pod 0 is the rendezvous
        rendezvous: !runArgs.some((arg) => arg.split("=")[0] === "--start-at"),
      };
      const yaml = manifestYaml(shardManifest(spec));
      if (flags.output === undefined) process.stdout.write(yaml);
      else writeFileSync(flag.text("--output", flags.output), yaml);
      // on stderr: the manifest on stdout stays a manifest
      const merge = mergeCommand(spec);
      if (merge) console.error(`then, when the Job is complete: ${merge.join(" ")}`);
    });
}

function uploadOf(flags: RawFlags): { url: string; secret: string } | null {
  const secretFlag = flags["s3-secret"]; // cac keeps a name with a digit as written
  if (flags.upload === undefined) {
    if (secretFlag !== undefined) throw new UsageError("--s3-secret: only with --upload s3://bucket/prefix");
    return null;
  }
  const url = flag.text("--upload", flags.upload);
  const location = parseS3Url(url);
  if (typeof location === "string") throw new UsageError(`--upload: ${location}`);
  const secret = flag.text("--s3-secret", secretFlag, "llmbench-s3");
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(secret)) throw new UsageError(`--s3-secret: expected a Secret's name (lower-case letters, digits, - and .), got "${secret}"`);
  return { url: s3Url(location), secret };
}
