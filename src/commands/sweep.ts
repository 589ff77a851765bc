import type { CAC } from "cac";
import { missingCredentials, s3Url } from "../archive/s3-client.ts";
import { loadBenchConfig } from "../config/load-config.ts";
import type { RawFlags } from "../config/run-options.ts";
import { parseWorkers } from "../config/shard-options.ts";
import { parseSweepFlags } from "../config/sweep-flags.ts";
import { UsageError } from "../common/usage-error.ts";
import { sweepPreflight } from "../doctor/doctor.ts";
import { runSweep } from "../sweep/run-sweep.ts";
import { addSettingOptions } from "./run.ts";

export function registerSweep(cli: CAC): void {
  addSettingOptions(cli.command("sweep [config]", "Launch the server, run every point of the config's sweep, stop the server, archive the run"), "sweep")
    .option("--clients <list>", "Client counts to sweep instead of the config's, e.g. 1,4,16")
    .option("--rates <list>", "Request rates (req/s) to sweep instead of the config's")
    .option("--input-lens <list>", "Input lengths (tokens) of synthetic prompts to sweep, e.g. 128,1024: a grid with --output-lens and the clients or rates")
    .option("--output-lens <list>", "Output lengths (tokens) to sweep, e.g. 128,1024")
    .option("--find-max <axis>", "Capacity search instead of the listed points: the most clients, or highest rate, meeting --slo")
    .option("--slo <terms>", "SLOs of the capacity search, e.g. 'p99_ttft<=500,p99_tpot<=50' (ms)")
    .option("--search-resolution <n>", "Stop the search when the highest pass and lowest fail are this close (default 1 client, 0.5 req/s)")
    .option("--output-dir <dir>", "Root of the archive, instead of the config's (default result)")
    .option("--no-doctor", "Skip the host checks a sweep of 500+ connections runs first (llmbench doctor)")
    .option("--no-progress", "Turn off the live progress line (shown by default)")
    .option("--upload <s3-url>", "Copy the run's folder to s3://bucket/prefix/<YYYY-MM-DD>/<run>/ when the sweep ends, whatever its outcome (as output.upload; credentials as for run --upload)")
    .option("--workers <n>", "Run each point as n shards in n processes of this executable (auto: one per core the client may use), merged per point")
    .action(async (configPath: string | undefined, flags: RawFlags) => {
      if (!configPath) throw new UsageError("sweep needs a config file: llmbench sweep bench.config.ts");
      const config = await loadBenchConfig(configPath, parseSweepFlags(flags));
      const missing = config.upload && missingCredentials(process.env);
      if (missing) throw new UsageError(`${flags.upload !== undefined ? "--upload" : "output.upload"} ${s3Url(config.upload!)}: ${missing}`);
      await sweepPreflight(config, flags.doctor !== false);
      const workers = parseWorkers(flags.workers);
      process.exitCode = await runSweep(config, { progress: flags.progress !== false, command: ["llmbench", ...process.argv.slice(2)], workers });
    });
}
