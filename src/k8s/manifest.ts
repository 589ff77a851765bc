/**
 * The Kubernetes objects of a sharded point: an Indexed Job whose pod K runs `llmbench run` as
 * shard K of N, a headless Service naming the pods (the address a rendezvous will use), and a
 * ConfigMap holding the run's settings. Plain objects: the caller writes them as YAML.
 */

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
}

export const RESULTS_MOUNT = "/results";
export const RENDEZVOUS_PORT = 7700;

type K8sObject = Record<string, unknown>;

export function shardManifest(spec: ManifestSpec): K8sObject[] {
  const metadata = (name: string) => ({ name, ...(spec.namespace ? { namespace: spec.namespace } : {}), labels: { "app.kubernetes.io/name": "llmbench", "app.kubernetes.io/instance": spec.name } });
  const configName = `${spec.name}-config`;
  const configMap = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: metadata(configName),
    data: {
      LLMBENCH_SHARD_COUNT: String(spec.shards),
      "run-args.json": JSON.stringify(spec.runArgs),
    },
  };
  const service = {
    apiVersion: "v1",
    kind: "Service",
    metadata: metadata(spec.name),
    spec: {
      clusterIP: "None",
      selector: { "batch.kubernetes.io/job-name": spec.name },
      ports: [{ name: "rendezvous", port: RENDEZVOUS_PORT, protocol: "TCP" }],
    },
  };
  const job = {
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
              args: ["run", ...spec.runArgs, "--no-progress", "--result-dir", `${RESULTS_MOUNT}/${spec.name}/shard-$(LLMBENCH_SHARD_INDEX)`],
              env: [
                { name: "LLMBENCH_SHARD_INDEX", valueFrom: { fieldRef: { fieldPath: "metadata.annotations['batch.kubernetes.io/job-completion-index']" } } },
                { name: "LLMBENCH_SHARD_COUNT", valueFrom: { configMapKeyRef: { name: configName, key: "LLMBENCH_SHARD_COUNT" } } },
              ],
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

/** Multi-document YAML, as kubectl apply -f reads it. */
export function manifestYaml(objects: K8sObject[]): string {
  return objects.map((object) => Bun.YAML.stringify(object, null, 2).trimEnd()).join("\n---\n") + "\n";
}
