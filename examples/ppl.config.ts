/**
 * OpenPPL's ppl_llm_server (gRPC) serving Llama-2 7B in fp16 on one GPU, swept over the seed's
 * client counts, with the seed's server settings.
 *   ./llmbench sweep examples/ppl.config.ts
 * Change the paths to yours; relative paths are relative to this file.
 */
import { defineConfig } from "llmbench";

const OPMX_MODEL_PATH = "/mnt/llm/llm_perf/opmx_models";
const HF_MODEL_PATH = "/mnt/llm2/llm_perf/hf_models";
const PPL_BUILD_DIR = "/path/to/ppl.llm.serving/ppl-build";
const sizeB = 7;
const tp = 1;

export default defineConfig({
  backend: "ppl",
  model: {
    tag: `llama2-${sizeB}b`,
    sizeB,
    tp,
    mode: "fp16",
    path: `${OPMX_MODEL_PATH}/llama_${sizeB}b_${tp}gpu`,
    tokenizerPath: `${HF_MODEL_PATH}/llama-${sizeB}b-hf/tokenizer.model`,
  },
  servers: {
    ppl: {
      url: "127.0.0.1:23333",
      launch: {
        command: (config, server) => [
          "./ppl_llm_server",
          "--model-dir", config.model.path!,
          "--model-param-path", `${config.model.path}/params.json`,
          "--tokenizer-path", config.model.tokenizerPath!,
          "--tensor-parallel-size", String(config.model.tp),
          "--top-p", "0.0", "--top-k", "1",
          "--max-tokens-scale", "0.94",
          "--max-input-tokens-per-request", "4096",
          "--max-output-tokens-per-request", "4096",
          "--max-total-tokens-per-request", "8192",
          "--max-running-batch", "1024",
          "--max-tokens-per-step", "8192",
          "--host", server.host, "--port", String(server.port),
        ],
        cwd: PPL_BUILD_DIR,
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
