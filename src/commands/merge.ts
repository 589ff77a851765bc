import type { CAC } from "cac";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import pc from "picocolors";
import { assertWritableDir } from "../archive/result-files.ts";
import { isS3Url, missingCredentials, parseS3Url, type S3Location } from "../archive/s3-client.ts";
import { uploadFolderTo, UPLOAD_FAILED_EXIT_CODE } from "../archive/s3-upload.ts";
import type { RawFlags } from "../config/run-options.ts";
import { UsageError } from "../config/usage-error.ts";
import { mergeSources } from "../merge/merge-point.ts";
import { s3ShardSources } from "../merge/s3-source.ts";
import { localSource, type ShardSource } from "../merge/shard-source.ts";

type Out = { kind: "local"; dir: string } | { kind: "s3"; location: S3Location };

export function registerMerge(cli: CAC): void {
  cli
    .command("merge [...folders]", "Merge the result folders of a point's shards (llmbench run --shard K/N), local or s3://bucket/prefix, into one summary")
    .option("--out <dir>", "Where the merged summary.json and summary.csv go: a folder, or s3://bucket/prefix to upload them there (default: <first folder's parent>/merged; ./merged when the first is in S3)")
    .option("--allow-partial", "Merge the complete shards even when some are missing or did not complete (recorded in summary.json)")
    .action(async (args: string[], flags: RawFlags) => {
      if (args.length === 0) throw new UsageError("merge: give the shards' result folders (llmbench merge DIR... or s3://bucket/prefix... [--out DIR])");
      const out = parseOut(flags.out, args[0]!);
      const locations = new Map<string, S3Location>();
      for (const arg of args.filter(isS3Url)) {
        const location = parseS3Url(arg);
        if (typeof location === "string") throw new UsageError(`merge: ${location}`);
        locations.set(arg, location);
      }
      if (locations.size > 0 || out.kind === "s3") {
        const missing = missingCredentials(process.env);
        if (missing) throw new UsageError(`merge ${[...locations.keys()][0] ?? `--out ${String(flags.out)}`}: ${missing}`);
      }
      if (out.kind === "local") assertWritableDir(out.dir, "--out");

      const sources: ShardSource[] = [];
      for (const arg of args) {
        const location = locations.get(arg);
        if (!location) {
          sources.push(localSource(arg));
          continue;
        }
        const found = await s3ShardSources(location);
        if (found.nested) console.log(pc.dim(`  ${found.url}/: ${found.sources.length} shard folder${found.sources.length === 1 ? "" : "s"} (${found.sources.map((source) => source.name.slice(found.url.length + 1)).join(", ")})`));
        sources.push(...found.sources);
      }

      // an S3 --out: the files are written here first, uploaded, and removed once they are there
      const outDir = out.kind === "local" ? out.dir : mkdtempSync(join(tmpdir(), "llmbench-merge-"));
      let keep = out.kind === "local";
      try {
        const result = await mergeSources(sources, { outDir, allowPartial: flags.allowPartial === true });
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
        if (out.kind === "local") {
          console.log(pc.dim(`  summary in ${result.outDir}`));
          return;
        }
        try {
          const uploaded = await uploadFolderTo(outDir, out.location);
          console.log(pc.dim(`  summary in ${uploaded.url} (${uploaded.files} files)`));
        } catch (error) {
          keep = true;
          console.error(pc.red(`llmbench: --out: ${(error as Error).message} (the merged summary is kept in ${outDir})`));
          process.exitCode = UPLOAD_FAILED_EXIT_CODE;
        }
      } finally {
        if (!keep) rmSync(outDir, { recursive: true, force: true });
      }
    });
}

function parseOut(raw: unknown, first: string): Out {
  if (raw === undefined) return { kind: "local", dir: isS3Url(first) ? resolve("merged") : join(dirname(resolve(first)), "merged") };
  if (typeof raw !== "string" || raw === "") throw new UsageError("--out: expected a folder or s3://bucket/prefix");
  if (!isS3Url(raw)) return { kind: "local", dir: raw };
  const location = parseS3Url(raw);
  if (typeof location === "string") throw new UsageError(`--out: ${location}`);
  if (location.prefix === "") throw new UsageError(`--out ${raw}: give a prefix for the merged files (s3://bucket/prefix), not the bucket's root`);
  return { kind: "s3", location };
}

function signedMs(ms: number): string {
  const rounded = Number(ms.toFixed(1));
  return `${rounded < 0 ? "−" : "+"}${Math.abs(rounded).toFixed(1)} ms`;
}

