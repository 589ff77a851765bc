#!/usr/bin/env bun
/** The command line: each command lives in commands/ and only parses flags and calls the pieces. */
import { cac, type CAC } from "cac";
import pc from "picocolors";
import { checkOptions, joinGoodputValues, spellingsOf } from "./config/argv-check.ts";
import { joinNegativeValues } from "./config/negative-values.ts";
import { groupHelp } from "./commands/help-groups.ts";
import { UsageError } from "./config/usage-error.ts";
import { guardConsole } from "./records/scrub.ts";
import { runWatchdog, WATCHDOG_ARG } from "./server/watchdog.ts";
import { POINT_WORKER_ARG } from "./runner/point-worker-arg.ts";
import { VERSION, versionLine } from "./version.ts";
import { tuneRuntime } from "./common/runtime-tuning.ts";
import { isCompiledBinary } from "./common/self-command.ts";

/** The commands that measure (or serve what is measured) run with the allocator tuned for it. */
const TUNED_COMMANDS = new Set(["run", "sweep", "probe", "mock", POINT_WORKER_ARG]);
if (TUNED_COMMANDS.has(process.argv.slice(2).find((arg) => !arg.startsWith("-")) ?? "")) await tuneRuntime(isCompiledBinary());

if (process.argv[2] === WATCHDOG_ARG) await runWatchdog(process.argv.slice(3)); // the hidden guard of a launched server
if (process.argv[2] === POINT_WORKER_ARG) await (await import("./runner/point-worker.ts")).runPointWorker(); // one worker of sweep --workers, driven over IPC
guardConsole(); // no secret reaches the console, whoever prints
const cli = cac("llmbench");

/**
 * Each command's module by command name, in --help's order, imported only when needed (a module
 * brings its whole subsystem, e.g. gRPC for run): the named command's alone, all of them for the
 * top-level help or an unknown name, none for --version.
 */
type Register = (cli: CAC) => void;
const COMMANDS: Record<string, () => Promise<Register>> = {
  run: async () => (await import("./commands/run.ts")).registerRun,
  sweep: async () => (await import("./commands/sweep.ts")).registerSweep,
  server: async () => (await import("./commands/server.ts")).registerServer,
  history: async () => (await import("./commands/history.ts")).registerHistory,
  compare: async () => (await import("./commands/history.ts")).registerHistory, // history.ts registers both
  mock: async () => (await import("./commands/mock.ts")).registerMock,
  probe: async () => (await import("./commands/probe.ts")).registerProbe,
  doctor: async () => (await import("./commands/doctor.ts")).registerDoctor,
  report: async () => (await import("./commands/report.ts")).registerReport,
  merge: async () => (await import("./commands/merge.ts")).registerMerge,
  k8s: async () => (await import("./commands/k8s.ts")).registerK8s,
};

async function registerCommands(args: readonly string[]): Promise<void> {
  const name = args.find((arg) => !arg.startsWith("-")) ?? "";
  const only = COMMANDS[name];
  if (only) return (await only())(cli);
  if (name === "" && args.length > 0 && args.every((arg) => arg === "--version" || arg === "-v")) return;
  const registered = new Set<Register>();
  for (const load of Object.values(COMMANDS)) {
    const register = await load();
    if (!registered.has(register)) register(cli);
    registered.add(register);
  }
}
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
  await registerCommands(argv.slice(2));
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
