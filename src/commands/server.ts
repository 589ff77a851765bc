import type { CAC } from "cac";
import { loadBenchConfig } from "../config/load-config.ts";
import type { RawFlags } from "../config/run-options.ts";
import { parseSweepFlags } from "../config/sweep-flags.ts";
import { UsageError } from "../config/usage-error.ts";
import { serverStart, serverStatus, serverStop } from "../server/server-commands.ts";

const ACTIONS = { start: serverStart, stop: serverStop, status: serverStatus };

export function registerServer(cli: CAC): void {
  cli
    .command("server <action> [config]", "start | stop | status: the config's server on its own (start prints SERVER STARTED <pid>)")
    .option("--output-dir <dir>", "Where the pid file and server log are kept (default the config's output folder)")
    .action(async (action: string, configPath: string | undefined, flags: RawFlags) => {
      const run = ACTIONS[action as keyof typeof ACTIONS];
      if (!run) throw new UsageError(`server: expected start, stop or status, got "${action}"`);
      if (!configPath) throw new UsageError(`server ${action} needs a config file: llmbench server ${action} bench.config.ts`);
      const config = await loadBenchConfig(configPath, parseSweepFlags({ outputDir: flags.outputDir }));
      const code = await run(config);
      // A started server must not keep llmbench waiting (open sockets of the health check).
      process.exit(code);
    });
}
