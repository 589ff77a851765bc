/**
 * The sweep `./llmbench sweep bench.config.ts` runs. As shipped it benchmarks the simulator
 * built into llmbench (`llmbench mock`), so it runs anywhere, with no GPU, in about a minute.
 * For a real server, copy one of examples/ (vLLM, PPL, LightLLM) or change `servers` below.
 */
import { defineConfig, freePort } from "llmbench";

const port = freePort();

export default defineConfig({
  backend: "vllm",
  model: { tag: "mock-7b", sizeB: 7, tp: 1, mode: "fp16", name: "mock-model" },
  servers: {
    vllm: {
      url: `http://127.0.0.1:${port}`,
      launch: {
        // The simulator: a continuous-batching timing model of a 7B model on one GPU.
        command: (config, server) => [...server.llmbench, "mock", "--host", server.host, "--port", String(server.port), "--model", config.model.name],
        readyTimeoutS: 30,
        stopGraceS: 5,
      },
    },
  },
  dataset: { path: "datasets/sharegpt_sample.json" },
  sweep: {
    clients: [1, 4, 16, 64],
    stopTimeS: 12,
    drainTimeoutS: 10,
  },
});
