#!/usr/bin/env bun
import { cac } from "cac";
import pc from "picocolors";
import { parseMockOptions } from "./config/mock-options.ts";
import { DEFAULT_DRAIN_TIMEOUT_S, DEFAULT_REQUEST_TIMEOUT_S, parseRunOptions, type RawFlags } from "./config/run-options.ts";
import { UsageError } from "./dataset/errors.ts";
import { startMockServer } from "./mock/server.ts";
import { runCommand } from "./runner/run-command.ts";
import { VERSION } from "./version.ts";

const cli = cac("llmbench");

cli
  .command("run", "Run one benchmark point against a running server")
  .option("--backend <name>", "Server protocol", { default: "vllm" })
  .option("--base-url <url>", "Server URL", { default: "http://127.0.0.1:8000" })
  .option("--model <name>", "Model name sent with each request")
  .option("--dataset-path <file>", "ShareGPT-shaped JSON dataset")
  .option("--num-requests <n>", "Request budget of the point")
  .option("--num-clients <n>", "Closed-loop virtual users (alias --num-threads)")
  .option("--num-threads <n>", "Old name of --num-clients")
  .option("--ramp-up-time <s>", "Seconds over which users start (default clients × 0.1)")
  .option("--stop-time <s>", "Seconds after which no new request starts (alias --thread-stop-time)")
  .option("--thread-stop-time <s>", "Old name of --stop-time")
  .option("--drain-timeout <s>", `Seconds requests in flight get to finish after the stop (default ${DEFAULT_DRAIN_TIMEOUT_S})`)
  .option("--output-len <n>", "Output tokens per request (default: the dataset answer's length)")
  .option("--request-timeout <s>", `Per-request timeout in seconds (default ${DEFAULT_REQUEST_TIMEOUT_S})`)
  .option("--seed <n>", "Seed of the per-user prompt sequences (default 0)")
  .option("--tokenizer <name>", "Client tokenizer counting input tokens: cl100k_base or o200k_base")
  .option("--result-dir <dir>", "Where results go (default result/<date>/<time>_<backend>_<model>)")
  .option("--model-size <b>", "model_size(B) column of the CSV")
  .option("--tp <n>", "tp column of the CSV (default 1)")
  .option("--mode <mode>", "mode column of the CSV (fp16, ...)")
  .option("--api-key-env <name>", "Environment variable holding the API key (default OPENAI_API_KEY)")
  .option("--insecure", "Accept any TLS certificate")
  .option("--no-progress", "No live progress line")
  .action(async (flags: RawFlags) => {
    const merged = {
      ...flags,
      numClients: flags.numClients ?? flags.numThreads,
      stopTime: flags.stopTime ?? flags.threadStopTime,
    };
    process.exitCode = await runCommand(parseRunOptions(merged));
  });

cli
  .command("mock", "Run the built-in simulated LLM server")
  .option("--host <host>", "Address to listen on", { default: "127.0.0.1" })
  .option("--port <port>", "Port (0 picks a free one)", { default: 8000 })
  .option("--protocol <name>", "Wire format to speak", { default: "vllm" })
  .option("--model <name>", "Model name it reports", { default: "mock-model" })
  .option("--ttft-ms <ms>", "Fixed timing: first token this long after arrival")
  .option("--itl-ms <ms>", "Fixed timing: one token every this many ms after the first")
  .option("--tokens-per-event <n>", "Fixed timing: tokens carried by each stream event (default 1)")
  .option("--prefill-tps <n>", "Batching timing: prompt tokens prefilled per second")
  .option("--step-ms <ms>", "Batching timing: fixed cost of one decode step")
  .option("--step-ms-per-seq <ms>", "Batching timing: extra step cost per running sequence")
  .option("--max-batch <n>", "Batching timing: sequences running at most")
  .option("--truth-log <file>", "Append one JSON line per request with the time each token was written")
  .action((flags: RawFlags) => {
    const options = parseMockOptions(flags);
    const server = startMockServer(options);
    console.log(`llmbench mock listening on ${server.url} (protocol ${options.protocol}, ${options.timing.description})`);
    const stop = () => void server.stop().then(() => process.exit(0));
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });

cli.help();
cli.version(VERSION);

async function main(): Promise<void> {
  try {
    cli.parse(process.argv, { run: false });
    if (!cli.matchedCommand) {
      if (cli.args.length > 0) throw new UsageError(`unknown command "${cli.args[0]}"; see llmbench --help`);
      if (!cli.options.help && !cli.options.version) cli.outputHelp();
      return;
    }
    await cli.runMatchedCommand();
  } catch (error) {
    if (error instanceof UsageError || (error as Error)?.name === "CACError") {
      console.error(pc.red(`llmbench: ${(error as Error).message}`));
      process.exit(2);
    }
    console.error(pc.red(`llmbench: ${(error as Error)?.stack ?? error}`));
    process.exit(1);
  }
}

await main();
