import type { CAC } from "cac";
import { parseMockOptions } from "../config/mock-options.ts";
import type { RawFlags } from "../config/run-options.ts";
import { UsageError } from "../config/usage-error.ts";
import { FAULTS } from "../mock/faults.ts";
import type { ConnectionBehaviour } from "../mock/http1.ts";
import { MOCK_PROTOCOLS, startMockServer, type RunningMock } from "../mock/server.ts";

function connectionWords(connections: ConnectionBehaviour): string[] {
  return [
    ...(connections.closeAfterAnswer ? ["closes after every answer (says keep-alive)"] : []),
    ...(connections.connectionClose ? ["Connection: close"] : []),
    ...(connections.idleTimeoutMs === null ? [] : [`closes connections idle ${connections.idleTimeoutMs / 1000} s`]),
    ...(connections.maxRequests === null ? [] : [`${connections.maxRequests} requests per connection`]),
  ];
}

export function registerMock(cli: CAC): void {
  cli
    .command("mock", "Run the built-in simulated LLM server")
    .option("--host <host>", "Address to listen on", { default: "127.0.0.1" })
    .option("--port <port>", "Port of the first protocol; the next ones take the ports after it (0 picks free ones)", { default: 8000 })
    .option("--protocol <names>", `Wire format(s) to speak, comma-separated: ${Object.keys(MOCK_PROTOCOLS).join(", ")}`, { default: "vllm" })
    .option("--model <name>", "Model name it reports", { default: "mock-model" })
    .option("--ttft-ms <ms>", "Fixed timing: first token this long after arrival")
    .option("--itl-ms <ms>", "Fixed timing: one token every this many ms after the first")
    .option("--tokens-per-event <n>", "Fixed timing: tokens carried by each stream event (default 1)")
    .option("--prefill-tps <n>", "Batching timing: prompt tokens prefilled per second")
    .option("--step-ms <ms>", "Batching timing: fixed cost of one decode step")
    .option("--step-ms-per-seq <ms>", "Batching timing: extra step cost per running sequence")
    .option("--max-batch <n>", "Batching timing: sequences running at most")
    .option("--prefix-cache", "Model a prefix cache: prompts' leading blocks seen before skip prefill (batching timing); /metrics and usage report the hits")
    .option("--prefix-cache-blocks <n>", "Prefix cache: blocks it holds, least recently used evicted first (default 8192)")
    .option("--prefix-block-tokens <n>", "Prefix cache: tokens per block (default 16, as vLLM)")
    .option("--truth-log <file>", "Append one JSON line per request with the time each token was written")
    .option("--api-key-env <name>", "Require the Bearer key held by this environment variable (HTTP 401 / gRPC UNAUTHENTICATED otherwise)")
    .option("--fail-after-tokens <n>", "Fault: every answer fails with the protocol's error event after n tokens")
    .option("--ignore-eos", "Every answer runs to its max tokens, even for protocols without ignore-eos (tgi, amsv2)")
    .option("--max-output-tokens <n>", "Cut every answer at n tokens, as a server with a length limit does")
    .option("--log-prompts", "Also write each request's prompt into the truth log")
    .option("--reasoning-tokens <n>", "A reasoning model: every answer thinks for its first n tokens")
    .option("--reasoning-field <name>", "Where the thinking streams: reasoning (vLLM, default), reasoning_content (DeepSeek, SGLang, llama.cpp) or think-tags (<think>…</think> in the content)")
    .option("--tool-call-tokens <n>", "The last n tokens of every answer are a streamed tool call (openai-chat: delta.tool_calls)")
    .option("--no-chunk-usage", "vllm, openai-chat: usage only at the end, even when continuous_usage_stats is asked for (as OpenAI's and DeepSeek's APIs)")
    .option("--request-log <file>", "Append each request's headers (not the key) and body fields (not the prompt) to this file")
    .option("--close-after-answer", "Close the connection after every answer although it says keep-alive (as llama.cpp's llama-server does)")
    .option("--idle-timeout <s>", "Close kept-alive connections idle this many seconds (uvicorn: 5)")
    .option("--keep-alive-max <n>", "Answer at most n requests per connection (the last one says Connection: close)")
    .option("--connection-close", "Answer every request with Connection: close and close, as an HTTP/1.0 server does")
    .option("--faults <list>", `Fault matrix, name:probability,... per generation request: ${Object.keys(FAULTS).join(", ")}`)
    .option("--fault-seed <n>", "Seed of the fault schedule: the n-th request draws the same fault in every run (default 0)")
    .option("--fault-delay-ms <ms>", "How long slow-headers waits before answering (default 1000)")
    .option("--fault-skip <n>", "The first n generation requests draw no fault (e.g. the one-token health check of ppl)")
    .action(async (flags: RawFlags) => {
      const options = parseMockOptions(flags);
      const apiKey = options.apiKeyEnv === null ? null : process.env[options.apiKeyEnv]!;
      const servers: RunningMock[] = [];
      for (const [i, protocol] of options.protocols.entries()) {
        const port = options.port === 0 ? 0 : options.port + i;
        const server = await startMockServer({
          host: options.host,
          port,
          protocol,
          model: options.model,
          timing: options.createTiming(),
          truthLogPath: options.truthLogPath,
          apiKey,
          faults: options.faults,
          logPrompts: options.logPrompts,
          requestLogPath: options.requestLogPath,
          connections: options.connections,
          faultPlan: options.faultPlan,
          prefixCache: options.prefixCache,
        }).catch((error: Error) => {
          throw new UsageError(`--port: cannot listen on ${options.host}:${port} for protocol ${protocol} (${error.message})`);
        });
        servers.push(server);
        const extras = [
          options.timingDescription,
          ...(apiKey === null ? [] : [`key from $${options.apiKeyEnv} required`]),
          ...(options.faults.failAfterTokens === null ? [] : [`fails after ${options.faults.failAfterTokens} tokens`]),
          ...(options.faults.ignoreEos ? ["ignores EOS"] : []),
          ...(options.faults.maxOutputTokens === null ? [] : [`answers cut at ${options.faults.maxOutputTokens} tokens`]),
          ...(options.faults.output && options.faults.output.reasoningTokens > 0 ? [`thinks ${options.faults.output.reasoningTokens} tokens (${options.faults.output.reasoningField})`] : []),
          ...(options.faults.output && options.faults.output.toolCallTokens > 0 ? [`tool call of ${options.faults.output.toolCallTokens} tokens`] : []),
          ...(options.faults.output && !options.faults.output.chunkUsage ? ["usage only at the end"] : []),
          ...(options.prefixCache === null ? [] : [`prefix cache of ${options.prefixCache.capacityBlocks} blocks of ${options.prefixCache.blockTokens} tokens`]),
          ...connectionWords(options.connections),
          ...(options.faultPlan.shares.length === 0 ? [] : [`faults ${options.faultPlan.shares.map((share) => `${share.name}:${share.probability}`).join(",")} seed ${options.faultPlan.seed}`]),
        ];
        console.log(`llmbench mock listening on ${server.url} (protocol ${protocol}, ${extras.join(", ")})`);
      }
      // Exit whatever stopping a server says: a signal must always end the simulator.
      const stop = () => void Promise.allSettled(servers.map((server) => server.stop())).then(() => process.exit(0));
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
    });
}
