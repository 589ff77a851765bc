import type { CAC, Command } from "cac";
import { BACKEND_NAMES } from "../backends/registry.ts";
import { DEFAULT_DRAIN_TIMEOUT_S, DEFAULT_REQUEST_TIMEOUT_S, parseRunOptions, type RawFlags } from "../config/run-options.ts";
import { runCommand } from "../runner/run-command.ts";

/**
 * The flags of a point's settings: `run` takes them, and `sweep` takes them too, to override the
 * config's fields of the same names (camelCase) at every point.
 */
export const SETTING_OPTIONS: [flag: string, description: string][] = [
  ["--backend <name>", `Server protocol: ${BACKEND_NAMES.join(", ")} (default vllm)`],
  ["--base-url <url>", "Server URL (ppl: host:port); default: the backend's usual local address"],
  ["--model <name>", "Model name sent with each request (default: the server's only model, from GET /v1/models; none for protocols whose requests name no model)"],
  ["--dataset-path <file>", "Dataset: ShareGPT JSON, or JSONL of {prompt, output_len} or {messages}"],
  ["--dataset <kind>", "synthetic: generated prompts of --input-len tokens (no --dataset-path)"],
  ["--input-len <n>", "Synthetic: mean input tokens"],
  ["--input-len-std <n>", "Synthetic: standard deviation of input tokens (default 0)"],
  ["--output-len-std <n>", "Synthetic: standard deviation of output tokens (default 0)"],
  ["--prefix-len <n>", "Synthetic: tokens of a prefix shared by every prompt (default 0)"],
  ["--min-input-len <n>", "Skip dataset prompts shorter than this many tokens"],
  ["--max-input-len <n>", "Skip dataset prompts longer than this many tokens"],
  ["--max-total-len <n>", "Skip dataset entries whose prompt + output tokens exceed this"],
  ["--system-prompt-path <file>", "A system prompt put before every request"],
  ["--num-requests <n>", "Request budget of the point"],
  ["--num-clients <n>", "Closed-loop virtual users (alias --num-threads)"],
  ["--num-threads <n>", "Old name of --num-clients"],
  ["--ramp-up-time <s>", "Seconds over which users start (default clients × 0.1)"],
  ["--request-rate <r>", "Open loop: requests per second (Poisson arrivals), or inf"],
  ["--burstiness <b>", "Open loop: gamma-distributed gaps with this shape (1 = Poisson)"],
  ["--max-concurrency <k>", "Open loop: at most k requests in flight; the rest wait in the client (alone: rate inf, as vLLM)"],
  ["--trace <file>", "Replay a JSONL trace: each request at its timestamp (ms), prompt or input_length/output_length; Mooncake traces as they are"],
  ["--trace-speed <x>", "Replay the trace x times as fast (default 1)"],
  ["--num-runs <k>", "Run the point k times (fresh connections, same prompts): mean and 95 % interval per metric"],
  ["--num-turns <t>", "Turns per conversation, each sending the history with the real answers (default 1)"],
  ["--think-time <s>", "Mean pause between turns, exponential (default 0)"],
  ["--warmup-requests <n>", "Unmeasured requests before the point (default 0)"],
  ["--goodput <slos>", "SLOs in ms, e.g. ttft:200,tpot:50,e2e:5000 (or vLLM's ttft:200 tpot:50 e2el:5000): goodput counts requests meeting all"],
  ["--stop-time <s>", "Seconds after which no new request starts (alias --thread-stop-time)"],
  ["--thread-stop-time <s>", "Old name of --stop-time"],
  ["--drain-timeout <s>", `Seconds requests in flight get to finish after the stop (default ${DEFAULT_DRAIN_TIMEOUT_S})`],
  ["--output-len <n>", "Output tokens per request (default: the dataset answer's length)"],
  ["--request-timeout <s>", `Per-request timeout in seconds (default ${DEFAULT_REQUEST_TIMEOUT_S})`],
  ["--seed <n>", "Seed of the per-user prompt sequences (default 0)"],
  ["--tokenizer <name>", "Client tokenizer counting input tokens: cl100k_base, o200k_base or a tokenizer.json path"],
  ["--result-dir <dir>", "Where results go (default result/<date>/<time>_<backend>_<model>)"],
  ["--model-size <b>", "model_size(B) column of the CSV"],
  ["--tp <n>", "tp column of the CSV (default 1)"],
  ["--mode <mode>", "mode column of the CSV (fp16, ...)"],
  ["--api-key-env <name>", "Environment variable holding the API key (default OPENAI_API_KEY for vllm and openai-chat, AMSV2_API_KEY for amsv2)"],
  ["--insecure", "Accept any TLS certificate"],
  ["--ppl-proto <version>", "ppl message set: v2 (default) or v1 for older servers"],
  ["--think-tags", "The model thinks inside <think>…</think> in its content (no reasoning parser): count that as thinking"],
  ["--extra-body <json>", "JSON object merged into every request body (e.g. '{\"chat_template_kwargs\":{\"enable_thinking\":false}}'); fields that set the output length or streaming are refused"],
  ["--header <header>", "'Name: value' sent with every request (repeatable)"],
  ["--temperature <t>", "Sampling temperature (OpenAI backends; default 0, greedy)"],
  ["--top-p <p>", "Sampling top_p (OpenAI backends)"],
  ["--top-k <k>", "Sampling top_k (OpenAI backends)"],
  ["--metric-percentiles <list>", "Percentiles to report besides p90 and p99, e.g. 50,90,95,99,99.9 (every output; CSV columns p95_ttft, … after the fixed ones)"],
  ["--threshold <expr>", "Pass/fail objective on a summary metric, e.g. 'p99_ttft<2000', 'success_rate>=0.99' (repeatable); any failure: exit code 3"],
  ["--save-result", "vLLM: also write a JSON result with vllm bench serve's keys"],
  ["--save-detailed", "vLLM: with per-request lists (ttfts, itls, input_lens, output_lens, errors); implies --save-result"],
  ["--result-filename <name>", "vLLM: the JSON result's file name in --result-dir (default vLLM's); implies --save-result"],
  ["--percentile-metrics <list>", "vLLM: metrics of the JSON result: ttft,tpot,itl,e2el (default ttft,tpot,itl)"],
  ["--dataset-name <name>", "vLLM: sharegpt (--dataset-path) or random (synthetic prompts: --random-input-len, default 1024)"],
  ["--random-input-len <n>", "vLLM: input tokens of --dataset-name random (= --input-len)"],
  ["--random-output-len <n>", "vLLM: output tokens of --dataset-name random (= --output-len, default 128)"],
  ["--random-range-ratio <r>", "vLLM: lengths uniform in [L(1-r), L(1+r)], 0 <= r < 1 (default 0)"],
  ["--random-prefix-len <n>", "vLLM: shared prefix tokens before each random prompt (= --prefix-len)"],
  ["--sharegpt-output-len <n>", "vLLM: output tokens of every ShareGPT request (= --output-len)"],
  ["--num-prompts <n>", "vLLM: the request budget (= --num-requests); without --num-clients or --request-rate, all are sent at once (rate inf)"],
  ["--ignore-eos", "vLLM: answers run to their length (llmbench always asks for it)"],
  ["--host <host>", "vLLM: server host (with --port, instead of --base-url; default 127.0.0.1)"],
  ["--port <port>", "vLLM: server port (default 8000)"],
  ["--endpoint <path>", "vLLM: /v1/completions (--backend vllm) or /v1/chat/completions (--backend openai-chat)"],
  ["--no-server-metrics", "Do not sample the server's /metrics gauges (running, waiting, KV cache) during the run"],
  ["--no-preconnect", "Do not open the users' keep-alive connections before the clock starts (each connects with its first request)"],
  ["--preconnect-rate <n>", "New connections a second when opening them before the clock (default 500)"],
];

/** `run`'s setting flags that are not a sweep's: its result folder (a sweep archives each point in its run folder). */
const RUN_ONLY = ["--result-dir <dir>"];

/** Declares the setting flags on `command` (all of them for `run`; without run-only ones for `sweep`). */
export function addSettingOptions(command: Command, which: "run" | "sweep"): Command {
  for (const [name, description] of SETTING_OPTIONS) {
    if (which === "sweep" && RUN_ONLY.includes(name)) continue;
    command.option(name, description);
  }
  return command;
}

export function registerRun(cli: CAC): void {
  addSettingOptions(cli.command("run", "Run one benchmark point against a running server"), "run")
    .option("--no-progress", "Turn off the live progress line (shown by default)")
    // scale-out (issue 11)
    .option("--shard <K/N>", "Run shard K of N of the point (also JOB_COMPLETION_INDEX or LLMBENCH_SHARD_INDEX, with LLMBENCH_SHARD_COUNT); merge with llmbench merge")
    .option("--start-at <time>", "Start the clock at this epoch ms or ISO time (a start barrier for shards)")
    .option("--workers <n>", "Run the point as n shards in n processes of this executable on this host (auto: one per core the client may use), merged at the end")
    .option("--rendezvous <host:port>", "Shards meet here before the start: shard 0 listens, the others check in and measure their clock offset to it, shard 0 announces the start")
    .option("--rendezvous-timeout <s>", "How long the rendezvous may take before a shard gives up naming who is missing (default 180)")
    .option("--upload <s3-url>", "Copy the result folder to s3://bucket/prefix/<folder name>/ at the end (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION; LLMBENCH_S3_ENDPOINT or AWS_ENDPOINT_URL for an S3-compatible store)")
    .option("--start-tolerance <s>", "Exit non-zero instead of measuring when the start would be later than this (default 1)")
    .action(async (flags: RawFlags) => {
      const merged = {
        ...flags,
        backend: flags.backend ?? "vllm",
        numClients: flags.numClients ?? flags.numThreads,
        stopTime: flags.stopTime ?? flags.threadStopTime,
      };
      process.exitCode = await runCommand(parseRunOptions(merged));
    });
}
