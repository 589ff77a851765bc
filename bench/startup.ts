/**
 * How long `llmbench --version` (or any other arguments) takes from spawn to exit: mean, min and
 * max of N runs, after one unmeasured warm-up run.
 *   bun bench/startup.ts [--bin ./llmbench] [--runs 20] [-- ARGS...]
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "./lib.ts";

const { values, positionals } = parseArgs({
  options: { bin: { type: "string", default: join(ROOT, "llmbench") }, runs: { type: "string", default: "20" } },
  allowPositionals: true,
});
const argv = [resolve(values.bin), ...(positionals.length > 0 ? positionals : ["--version"])];
/** Wall time from spawn to exit, and the child's CPU time (all threads; less sensitive to a busy machine), in ms. */
const once = () => {
  const started = performance.now();
  const result = Bun.spawnSync(argv, { stdout: "ignore", stderr: "ignore" });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")} exited with ${result.exitCode}`);
  return { wall: performance.now() - started, cpu: Number(result.resourceUsage.cpuTime.total) / 1000 };
};
once();
const runs = Array.from({ length: Number(values.runs) }, once);
const line = (name: string, times: number[]) =>
  `${name} mean ${(times.reduce((sum, t) => sum + t, 0) / times.length).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`;
console.log(`${argv.slice(1).join(" ")} over ${runs.length} runs: ${line("wall", runs.map((r) => r.wall))}; ${line("CPU", runs.map((r) => r.cpu))} (target: wall mean ≤ 50 ms)`);
