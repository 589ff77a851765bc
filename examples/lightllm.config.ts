/**
 * LightLLM serving Llama-2 7B in fp16 on one GPU, swept over the seed's client counts, with the
 * seed's server settings.
 *   ./llmbench sweep examples/lightllm.config.ts
 * Change the paths to yours; relative paths are relative to this file.
 */
import { defineConfig } from "llmbench";

const HF_MODEL_PATH = "/mnt/llm2/llm_perf/hf_models";
const sizeB = 7;
const tp = 1;

export default defineConfig({
  backend: "lightllm",
  model: { tag: `llama2-${sizeB}b`, sizeB, tp, mode: "fp16", path: `${HF_MODEL_PATH}/llama-${sizeB}b-hf` },
  servers: {
    lightllm: {
      url: "http://127.0.0.1:8080",
      launch: {
        command: (config, server) => [
          "python", "-m", "lightllm.server.api_server",
          "--model_dir", config.model.path!,
          "--host", server.host, "--port", String(server.port),
          "--tp", String(config.model.tp),
          "--max_total_token_num", "150000",
          "--tokenizer_mode", "fast",
        ],
        readyTimeoutS: 900,
      },
    },
  },
  dataset: {
    path: "../datasets/samples_1024.json",
    systemPrompt: { enabled: false, path: "../datasets/system_prompt_sample.txt" },
  },
  sweep: {
    clients: [1, 5, 10, 20, 30, 40, 50, 100, 200, 300],
    numRequests: 1024,
    stopTimeS: 300,
  },
});
