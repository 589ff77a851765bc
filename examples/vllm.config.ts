/**
 * vLLM serving Llama-2 7B in fp16 on one GPU, swept over the seed's client counts
 * (api_bench_tools: env_setup.sh + start_server.sh + benchmark_all_cuda.sh in one file).
 *   ./llmbench sweep examples/vllm.config.ts
 * Change the paths to yours; relative paths are relative to this file.
 */
import { defineConfig } from "llmbench";

const HF_MODEL_PATH = "/mnt/llm2/llm_perf/hf_models";
const sizeB = 7;
const tp = 1;

export default defineConfig({
  backend: "vllm",
  model: { tag: `llama2-${sizeB}b`, sizeB, tp, mode: "fp16", path: `${HF_MODEL_PATH}/llama-${sizeB}b-hf` },
  servers: {
    vllm: {
      url: "http://127.0.0.1:8000",
      launch: {
        command: (config, server) => [
          "python", "-m", "vllm.entrypoints.openai.api_server",
          "--model", config.model.path!,
          "--swap-space", "16", "--disable-log-requests", "--enforce-eager",
          "--host", server.host, "--port", String(server.port),
          "-tp", String(config.model.tp),
        ],
        readyTimeoutS: 900,
      },
    },
  },
  dataset: {
    // Download it as the README's "Datasets" section says.
    path: "../datasets/samples_1024.json",
    systemPrompt: { enabled: false, path: "../datasets/system_prompt_sample.txt" },
  },
  sweep: {
    clients: [1, 5, 10, 20, 30, 40, 50, 100, 200, 300],
    numRequests: 1024,
    stopTimeS: 300,
  },
});
