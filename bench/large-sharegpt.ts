/**
 * Loading a ShareGPT_V3-sized file (640 MB): time to index it and to sample and tokenize what a
 * 64-user point needs, and the process's peak memory. Generates the file under .bench-tmp/ once.
 *   bun bench/large-sharegpt.ts [MEGABYTES]
 * Goal: a few seconds, memory bounded (not proportional to the file).
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./lib.ts";

const megabytes = Number(process.argv[2] ?? 640);
const file = join(ROOT, ".bench-tmp", `sharegpt_${megabytes}mb.json`);
if (!existsSync(file)) {
  mkdirSync(join(ROOT, ".bench-tmp"), { recursive: true });
  const made = Bun.spawnSync([process.execPath, join(import.meta.dir, "make-large-sharegpt.ts"), file, String(megabytes)], { stdout: "inherit", stderr: "inherit" });
  if (made.exitCode !== 0) throw new Error("could not generate the file");
}

// Measured in a fresh process, so that nothing of this one counts.
const probe = `
  const { openDatasetFile } = await import(${JSON.stringify(join(ROOT, "src/dataset/file-dataset.ts"))});
  const { ConversationSampler } = await import(${JSON.stringify(join(ROOT, "src/dataset/sampler.ts"))});
  const { loadTokenizer } = await import(${JSON.stringify(join(ROOT, "src/dataset/tokenizer.ts"))});
  let peak = 0;
  const sample = () => { peak = Math.max(peak, process.memoryUsage().rss); };
  const timer = setInterval(sample, 5);
  const tokenizer = await loadTokenizer("cl100k_base");
  const baseline = process.memoryUsage().rss;
  const t0 = performance.now();
  const source = openDatasetFile(${JSON.stringify(file)});
  const t1 = performance.now();
  sample();
  const sampler = new ConversationSampler(source, tokenizer, { fixedOutputLen: undefined, systemPrompt: null, minInputLen: null, maxInputLen: null, maxTotalLen: null });
  sampler.warm(0, 64, 16);
  const t2 = performance.now();
  sample();
  clearInterval(timer);
  console.log(JSON.stringify({ entries: source.size, indexMs: t1 - t0, sampleMs: t2 - t1, peakMb: peak / 1048576, baselineMb: baseline / 1048576 }));
`;
const run = Bun.spawnSync([process.execPath, "-e", probe], { stdout: "pipe", stderr: "inherit" });
const result = JSON.parse(run.stdout.toString().trim().split("\n").at(-1)!);
const size = Bun.file(file).size / 1048576;
console.log(`${size.toFixed(0)} MB ShareGPT-shaped file, ${result.entries.toLocaleString()} conversations`);
console.log(`index: ${(result.indexMs / 1000).toFixed(2)} s; sample + tokenize 64 users × 16 conversations: ${(result.sampleMs / 1000).toFixed(2)} s`);
console.log(`peak RSS ${result.peakMb.toFixed(0)} MB (after loading the tokenizer: ${result.baselineMb.toFixed(0)} MB)`);
