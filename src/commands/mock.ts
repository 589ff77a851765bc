import type { CAC } from "cac";
import { parseMockOptions } from "../config/mock-options.ts";
import type { RawFlags } from "../config/run-options.ts";
import { startMockServer } from "../mock/server.ts";

export function registerMock(cli: CAC): void {
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
    .option("--log-prompts", "Also write each request's prompt into the truth log")
    .option("--max-output-tokens <n>", "Cut every answer at n tokens, as a server with a length limit does")
    .action((flags: RawFlags) => {
      const options = parseMockOptions(flags);
      const server = startMockServer(options);
      console.log(`llmbench mock listening on ${server.url} (protocol ${options.protocol}, ${options.timing.description})`);
      const stop = () => void server.stop().then(() => process.exit(0));
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
}
