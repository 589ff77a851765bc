import type { CAC } from "cac";
import { BACKEND_NAMES } from "../backends/registry.ts";
import { DEFAULT_DRAIN_TIMEOUT_S, DEFAULT_REQUEST_TIMEOUT_S, parseRunOptions, type RawFlags } from "../config/run-options.ts";
import { runCommand } from "../runner/run-command.ts";

export function registerRun(cli: CAC): void {
  cli
    .command("run", "Run one benchmark point against a running server")
    .option("--backend <name>", `Server protocol: ${BACKEND_NAMES.join(", ")}`, { default: "vllm" })
    .option("--base-url <url>", "Server URL (ppl: host:port); default: the backend's usual local address")
    .option("--model <name>", "Model name sent with each request")
    .option("--dataset-path <file>", "Dataset: ShareGPT JSON, or JSONL of {prompt, output_len} or {messages}")
    .option("--dataset <kind>", "synthetic: generated prompts of --input-len tokens (no --dataset-path)")
    .option("--input-len <n>", "Synthetic: mean input tokens")
    .option("--input-len-std <n>", "Synthetic: standard deviation of input tokens (default 0)")
    .option("--output-len-std <n>", "Synthetic: standard deviation of output tokens (default 0)")
    .option("--prefix-len <n>", "Synthetic: tokens of a prefix shared by every prompt (default 0)")
    .option("--min-input-len <n>", "Skip dataset prompts shorter than this many tokens")
    .option("--max-input-len <n>", "Skip dataset prompts longer than this many tokens")
    .option("--max-total-len <n>", "Skip dataset entries whose prompt + output tokens exceed this")
    .option("--system-prompt-path <file>", "A system prompt put before every request")
    .option("--num-requests <n>", "Request budget of the point")
    .option("--num-clients <n>", "Closed-loop virtual users (alias --num-threads)")
    .option("--num-threads <n>", "Old name of --num-clients")
    .option("--ramp-up-time <s>", "Seconds over which users start (default clients × 0.1)")
    .option("--request-rate <r>", "Open loop: requests per second (Poisson arrivals), or inf")
    .option("--burstiness <b>", "Open loop: gamma-distributed gaps with this shape (1 = Poisson)")
    .option("--max-concurrency <k>", "Open loop: at most k requests in flight; the rest wait in the client")
    .option("--trace <file>", "Replay a JSONL trace: each request at its timestamp (ms), prompt or input_length/output_length; Mooncake traces as they are")
    .option("--trace-speed <x>", "Replay the trace x times as fast (default 1)")
    .option("--num-runs <k>", "Run the point k times (fresh connections, same prompts): mean and 95 % interval per metric")
    .option("--num-turns <t>", "Turns per conversation, each sending the history with the real answers (default 1)")
    .option("--think-time <s>", "Mean pause between turns, exponential (default 0)")
    .option("--warmup-requests <n>", "Unmeasured requests before the point (default 0)")
    .option("--goodput <slos>", "SLOs in ms, e.g. ttft:200,tpot:50,e2e:5000: goodput counts requests meeting all")
    .option("--stop-time <s>", "Seconds after which no new request starts (alias --thread-stop-time)")
    .option("--thread-stop-time <s>", "Old name of --stop-time")
    .option("--drain-timeout <s>", `Seconds requests in flight get to finish after the stop (default ${DEFAULT_DRAIN_TIMEOUT_S})`)
    .option("--output-len <n>", "Output tokens per request (default: the dataset answer's length)")
    .option("--request-timeout <s>", `Per-request timeout in seconds (default ${DEFAULT_REQUEST_TIMEOUT_S})`)
    .option("--seed <n>", "Seed of the per-user prompt sequences (default 0)")
    .option("--tokenizer <name>", "Client tokenizer counting input tokens: cl100k_base, o200k_base or a tokenizer.json path")
    .option("--result-dir <dir>", "Where results go (default result/<date>/<time>_<backend>_<model>)")
    .option("--model-size <b>", "model_size(B) column of the CSV")
    .option("--tp <n>", "tp column of the CSV (default 1)")
    .option("--mode <mode>", "mode column of the CSV (fp16, ...)")
    .option("--api-key-env <name>", "Environment variable holding the API key (default OPENAI_API_KEY for vllm and openai-chat, AMSV2_API_KEY for amsv2)")
    .option("--insecure", "Accept any TLS certificate")
    .option("--ppl-proto <version>", "ppl message set: v2 (default) or v1 for older servers")
    .option("--think-tags", "The model thinks inside <think>…</think> in its content (no reasoning parser): count that as thinking")
    .option("--no-progress", "No live progress line")
    .option("--no-server-metrics", "Do not sample the server's /metrics gauges (running, waiting, KV cache) during the run")
    .action(async (flags: RawFlags) => {
      const merged = {
        ...flags,
        numClients: flags.numClients ?? flags.numThreads,
        stopTime: flags.stopTime ?? flags.threadStopTime,
      };
      process.exitCode = await runCommand(parseRunOptions(merged));
    });
}
