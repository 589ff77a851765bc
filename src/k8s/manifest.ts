/**
 * The Kubernetes objects of a sharded point: an Indexed Job whose pod K runs `llmbench run` as
 * shard K of N, a headless Service naming the pods (pod 0 is the rendezvous: <name>-0.<name>), and a
 * ConfigMap holding the run's settings. Plain objects typed by the Kubernetes API's own types
 * (kubernetes-models, types only: nothing of it is in the executable); the caller writes them as YAML.
 */
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IService } from "kubernetes-models/v1/Service";
import type { IJob } from "kubernetes-models/batch/v1/Job";

export interface ManifestSpec {
  name: string;
  namespace: string | null;
  shards: number;
  image: string;
  /** The executable inside the image. */
  binary: string;
  /** `llmbench run` flags every shard shares (no --shard, no --result-dir). */
  runArgs: string[];
  /** A PersistentVolumeClaim the results go to (ReadWriteMany across nodes); an emptyDir when null. */
  resultsClaim: string | null;
  /** Each pod copies its folder to <upload>/shard-K/ at the end (s3://bucket/prefix), with credentials from this Secret. */
  upload: { url: string; secret: string } | null;
  /** Meet at pod 0 for the start (--rendezvous through the headless Service); false when the run's flags bring --start-at. */
  rendezvous: boolean;
}

export const RESULTS_MOUNT = "/results";
export const RENDEZVOUS_PORT = 7700;

type K8sObject = IConfigMap | IService | IJob;

/** Pod K of an Indexed Job is named <job>-K; with the Job's subdomain it resolves as <job>-K.<service>. */
export function rendezvousAddress(name: string): string {
  return `${name}-0.${name}:${RENDEZVOUS_PORT}`;
}

export function shardManifest(spec: ManifestSpec): [IConfigMap, IService, IJob] {
  const metadata = (name: string) => ({ name, ...(spec.namespace ? { namespace: spec.namespace } : {}), labels: { "app.kubernetes.io/name": "llmbench", "app.kubernetes.io/instance": spec.name } });
  const configName = `${spec.name}-config`;
  const configMap: IConfigMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(configName),
    data: {
      LLMBENCH_SHARD_COUNT: String(spec.shards),
      "run-args.json": JSON.stringify(spec.runArgs),
    },
  };
  const service: IService = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(spec.name),
    spec: {
      clusterIP: "None",
      // the pods' names resolve before they are ready: the shards look up pod 0 while starting
      publishNotReadyAddresses: true,
      selector: { "batch.kubernetes.io/job-name": spec.name },
      ports: [{ name: "rendezvous", port: RENDEZVOUS_PORT, protocol: "TCP" }],
    },
  };
  const job: IJob = {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: metadata(spec.name),
    spec: {
      completionMode: "Indexed",
      completions: spec.shards,
      parallelism: spec.shards,
      // a shard that fails is not retried: a rerun would measure at another time than the others
      backoffLimitPerIndex: 0,
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "llmbench", "app.kubernetes.io/instance": spec.name } },
        spec: {
          restartPolicy: "Never",
          subdomain: spec.name,
          containers: [
            {
              name: "llmbench",
              image: spec.image,
              command: [spec.binary],
              // $(VAR) is expanded by Kubernetes from the env below; no shell needed in the image
              args: [
                "run",
                ...spec.runArgs,
                ...(spec.rendezvous ? ["--rendezvous", rendezvousAddress(spec.name)] : []),
                ...(spec.upload ? ["--upload", spec.upload.url] : []),
                "--no-progress",
                "--result-dir",
                `${RESULTS_MOUNT}/${spec.name}/shard-$(LLMBENCH_SHARD_INDEX)`,
              ],
              env: [
                { name: "LLMBENCH_SHARD_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
                { name: "LLMBENCH_SHARD_COUNT", valueFrom: { configMapKeyRef: { name: configName, key: "LLMBENCH_SHARD_COUNT" } } },
              ],
              // AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_REGION, LLMBENCH_S3_ENDPOINT) from a Secret, never from the manifest
              ...(spec.upload ? { envFrom: [{ secretRef: { name: spec.upload.secret } }] } : {}),
              ports: [{ name: "rendezvous", containerPort: RENDEZVOUS_PORT }],
              volumeMounts: [
                { name: "results", mountPath: RESULTS_MOUNT },
                { name: "config", mountPath: "/etc/llmbench", readOnly: true },
              ],
            },
          ],
          volumes: [
            spec.resultsClaim === null ? { name: "results", emptyDir: {} } : { name: "results", persistentVolumeClaim: { claimName: spec.resultsClaim } },
            { name: "config", configMap: { name: configName } },
          ],
        },
      },
    },
  };
  return [configMap, service, job];
}

/**
 * The merge of the Job's shards, run anywhere once the Job is complete: from S3 when the pods upload
 * (the run's prefix: its shard-K folders are the shards; the merged files beside them), else from
 * the claim's folders (in a pod that mounts it at /results); null when the results stay in emptyDirs.
 */
export function mergeCommand(spec: ManifestSpec): string[] | null {
  if (spec.upload) return ["llmbench", "merge", spec.upload.url, "--out", `${spec.upload.url.replace(/\/+$/, "")}/merged`];
  if (spec.resultsClaim) {
    const folder = `${RESULTS_MOUNT}/${spec.name}`;
    return ["llmbench", "merge", ...Array.from({ length: spec.shards }, (_, index) => `${folder}/shard-${index}`), "--out", `${folder}/merged`];
  }
  return null;
}

/** Multi-document YAML, as kubectl apply -f reads it. */
export function manifestYaml(objects: K8sObject[]): string {
  return objects.map((object) => Bun.YAML.stringify(object, null, 2).trimEnd()).join("\n---\n") + "\n";
}
