import type { CAC } from "cac";
import pc from "picocolors";
import { BACKEND_NAMES } from "../backends/registry.ts";
import { backendFor } from "../runner/backend-for.ts";
import { describeApiKey } from "../common/api-key.ts";
import { parseProbeOptions } from "../config/probe-options.ts";
import type { RawFlags } from "../config/run-options.ts";
import { formatProbeEvent, formatProbeResult, formatReadiness } from "../report/probe-report.ts";
import { probeOnce } from "../runner/probe.ts";
import { checkReadiness } from "../runner/target.ts";

export function registerProbe(cli: CAC): void {
  cli
    .command("probe", "Send one request and print every token as it arrives, with its timing")
    .option("--backend <name>", `Server protocol: ${BACKEND_NAMES.join(", ")}`, { default: "vllm" })
    .option("--base-url <url>", "Server URL (ppl: host:port); default: the backend's usual local address")
    .option("--model <name>", "Model name sent with the request (default: none, the server's own where the protocol allows)")
    .option("--prompt <text>", "The prompt")
    .option("--output-len <n>", "Output tokens asked for (default 16)")
    .option("--request-timeout <s>", "Give up after this many seconds (default 60)")
    .option("--api-key-env <name>", "Environment variable holding the API key (default OPENAI_API_KEY for vllm and openai-chat, AMSV2_API_KEY for amsv2)")
    .option("--insecure", "Accept any TLS certificate")
    .option("--ppl-proto <version>", "ppl message set: v2 (default) or v1 for older servers")
    .option("--think-tags", "The model thinks inside <think>…</think> in its content (no reasoning parser): count that as thinking")
    .action(async (flags: RawFlags) => {
      const options = parseProbeOptions(flags);
      const backend = backendFor(options);
      console.log(pc.bold(`llmbench probe — ${options.backend} ${options.baseUrl}, ${options.outputLen} tokens asked, API key ${describeApiKey(options.apiKeyEnv)}`));
      let tokensSoFar = 0;
      try {
        console.log(formatReadiness(await checkReadiness(backend)));
        const result = await probeOnce(backend, options.prompt, options.outputLen, AbortSignal.timeout(options.requestTimeoutS * 1000), (event) => {
          tokensSoFar += event.tokens;
          console.log(formatProbeEvent(event, tokensSoFar));
        });
        console.log(formatProbeResult(result, options.outputLen));
        process.exitCode = result.outcome.error === null ? 0 : 1;
      } catch (error) {
        console.log(pc.red(`  no answer within ${options.requestTimeoutS} s (--request-timeout)${error instanceof Error && error.name !== "TimeoutError" ? `: ${error.message}` : ""}`));
        process.exitCode = 1;
      } finally {
        backend.close?.();
      }
    });
}
