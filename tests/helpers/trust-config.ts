/** Sweep configs for the trust tests, written into a temp folder, their server on 127.0.0.1. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DATASET } from "./cli.ts";

export interface TrustConfig {
  /** The launch command function's body, `(config, server) => [...]`; may use `server.llmbench`, `server.port`, `DIR`. */
  command: string;
  /** A fixed port (a free one otherwise). */
  port?: number;
  clients?: number[];
  numRequests?: number;
  stopTimeS?: number;
  datasetPath?: string;
  outputDir?: string;
  readyTimeoutS?: number;
  stopGraceS?: number;
  apiKeyEnv?: string;
  launchEnv?: Record<string, string>;
}

export function writeTrustConfig(dir: string, options: TrustConfig): string {
  const path = join(dir, "bench.config.ts");
  writeFileSync(
    path,
    `import { defineConfig, freePort } from "llmbench";
const port = ${options.port ?? "freePort()"};
const DIR = ${JSON.stringify(dir)};
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim-7b", sizeB: 7, tp: 1, mode: "fp16", name: "mock-model" },
  servers: {
    vllm: {
      url: \`http://127.0.0.1:\${port}\`,
      ${options.apiKeyEnv ? `apiKeyEnv: ${JSON.stringify(options.apiKeyEnv)},` : ""}
      launch: {
        command: (config, server) => ${options.command}, readyTimeoutS: ${options.readyTimeoutS ?? 30}, stopGraceS: ${options.stopGraceS ?? 3},
        ${options.launchEnv ? `env: ${JSON.stringify(options.launchEnv)},` : ""}
      },
    },
  },
  dataset: { path: ${JSON.stringify(options.datasetPath ?? DATASET)}, outputLen: 8 },
  sweep: {
    clients: ${JSON.stringify(options.clients ?? [1])}, rampUpS: 0,
    ${options.numRequests !== undefined ? `numRequests: ${options.numRequests},` : ""}
    ${options.stopTimeS !== undefined ? `stopTimeS: ${options.stopTimeS},` : ""}
    drainTimeoutS: 5,
  },
  ${options.outputDir ? `output: { dir: ${JSON.stringify(options.outputDir)} },` : ""}
});
`,
  );
  return path;
}

/** The simulator on the config's port. */
export const SIMULATOR = `[...server.llmbench, "mock", "--port", String(server.port), "--ttft-ms", "5", "--itl-ms", "1"]`;
