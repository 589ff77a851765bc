import type { CAC } from "cac";
import { dirname, join, resolve } from "node:path";
import pc from "picocolors";
import type { RawFlags } from "../config/run-options.ts";
import { UsageError } from "../config/usage-error.ts";
import { mergeShards } from "../merge/merge-point.ts";

export function registerMerge(cli: CAC): void {
  cli
    .command("merge [...dirs]", "Merge the result folders of a point's shards (llmbench run --shard K/N) into one summary")
    .option("--out <dir>", "Where the merged summary.json and summary.csv go (default: <first folder's parent>/merged)")
    .option("--allow-partial", "Merge the complete shards even when some are missing or did not complete (recorded in summary.json)")
    .action(async (dirs: string[], flags: RawFlags) => {
      if (dirs.length === 0) throw new UsageError("merge: give the shards' result folders (llmbench merge DIR... [--out DIR])");
      if (flags.out !== undefined && (typeof flags.out !== "string" || flags.out === "")) throw new UsageError("--out: expected a folder");
      const outDir = typeof flags.out === "string" ? flags.out : join(dirname(resolve(dirs[0]!)), "merged");
      const result = await mergeShards(dirs, { outDir, allowPartial: flags.allowPartial === true });
      const { summary } = result.point;
      if (result.leftOut) console.log(pc.yellow(`partial merge: ${result.leftOut}`));
      console.log(
        `merged ${result.set.included.length} of ${result.set.count} shards (plan ${result.set.planHash}): ${summary.requests} requests, ${summary.completed} completed, ${summary.failed} failed` +
          (result.startSpreadMs === null ? "" : `; start spread ${result.startSpreadMs.toFixed(1)} ms`),
      );
      const offsets = Object.entries(result.clockOffsetsMs);
      if (offsets.length > 0) {
        console.log(`  timeline corrected with the clock offsets to shard 0 measured at the rendezvous: ${offsets.map(([index, ms]) => `shard ${index} ${signedMs(ms)}`).join(", ")}`);
      }
      console.log(pc.dim(`  summary in ${result.outDir}`));
    });
}

function signedMs(ms: number): string {
  const rounded = Number(ms.toFixed(1));
  return `${rounded < 0 ? "−" : "+"}${Math.abs(rounded).toFixed(1)} ms`;
}
