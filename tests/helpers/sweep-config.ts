import { writeFileSync } from "node:fs";
import { DATASET } from "./cli.ts";

/**
 * Writes a sweep config against a simulator already running at `url` (`launch: "already-running"`),
 * with the fields tests vary given as plain data; returns its path.
 */
export function writeRunningSweepConfig(path: string, url: string, fields: { outputLen: number; sweep: Record<string, unknown>; output?: Record<string, unknown> }): string {
  const output = fields.output === undefined ? "" : `\n  output: ${JSON.stringify(fields.output)},`;
  writeFileSync(
    path,
    `import { defineConfig } from "llmbench";
export default defineConfig({
  backend: "vllm",
  model: { tag: "sim", name: "mock-model" },
  servers: { vllm: { url: ${JSON.stringify(url)}, launch: "already-running" } },
  dataset: { path: ${JSON.stringify(DATASET)}, outputLen: ${fields.outputLen} },
  sweep: ${JSON.stringify(fields.sweep)},${output}
});
`,
  );
  return path;
}
