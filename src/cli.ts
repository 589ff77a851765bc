#!/usr/bin/env bun
/** The command line: each command lives in commands/ and only parses flags and calls the pieces. */
import { cac } from "cac";
import pc from "picocolors";
import { registerDoctor } from "./commands/doctor.ts";
import { registerHistory } from "./commands/history.ts";
import { registerK8s } from "./commands/k8s.ts";
import { registerMerge } from "./commands/merge.ts";
import { registerMock } from "./commands/mock.ts";
import { registerProbe } from "./commands/probe.ts";
import { registerReport } from "./commands/report.ts";
import { registerRun } from "./commands/run.ts";
import { registerServer } from "./commands/server.ts";
import { registerSweep } from "./commands/sweep.ts";
import { checkOptions, joinGoodputValues, spellingsOf } from "./config/argv-check.ts";
import { joinNegativeValues } from "./config/negative-values.ts";
import { groupHelp } from "./commands/help-groups.ts";
import { UsageError } from "./config/usage-error.ts";
import { guardConsole } from "./records/scrub.ts";
import { runWatchdog, WATCHDOG_ARG } from "./server/watchdog.ts";
import { POINT_WORKER_ARG, runPointWorker } from "./runner/point-worker.ts";
import { VERSION, versionLine } from "./version.ts";

if (process.argv[2] === WATCHDOG_ARG) await runWatchdog(process.argv.slice(3)); // the hidden guard of a launched server
if (process.argv[2] === POINT_WORKER_ARG) await runPointWorker(); // one worker of sweep --workers, driven over IPC
guardConsole(); // no secret reaches the console, whoever prints
const cli = cac("llmbench");
registerRun(cli);
registerSweep(cli);
registerServer(cli);
registerHistory(cli);
registerMock(cli);
registerProbe(cli);
registerDoctor(cli);
registerReport(cli);
registerMerge(cli);
registerK8s(cli);
cli.help((sections) => groupHelp(cli.matchedCommand?.name ?? "", sections));
cli.version(VERSION).outputVersion = () => console.log(versionLine());

/** Every option the command does not declare is reported at once, as typed, before cac parses (it would name one, camel-cased). */
function checkArgv(args: string[]): void {
  const name = args.find((arg) => !arg.startsWith("-")) ?? "";
  const command = cli.commands.find((c) => c.name === name || c.aliasNames.includes(name));
  const global = cli.globalCommand.options.flatMap((option) => spellingsOf(option.rawName));
  if (!command) {
    if (name === "") checkOptions("", args, global);
    return;
  }
  checkOptions(command.name, args, [...global, ...command.options.flatMap((option) => spellingsOf(option.rawName))]);
}

try {
  const argv = joinGoodputValues(joinNegativeValues(process.argv));
  checkArgv(argv.slice(2));
  cli.parse(argv, { run: false });
  if (!cli.matchedCommand) {
    if (cli.args.length > 0) throw new UsageError(`unknown command "${cli.args[0]}"; see llmbench --help`);
    if (!cli.options.help && !cli.options.version) cli.outputHelp();
  } else {
    await cli.runMatchedCommand();
  }
} catch (error) {
  if (error instanceof UsageError || (error as Error)?.name === "CACError") {
    console.error(pc.red(`llmbench: ${(error as Error).message}`));
    process.exit(2);
  }
  console.error(pc.red(`llmbench: ${(error as Error)?.stack ?? error}`));
  process.exit(1);
}
