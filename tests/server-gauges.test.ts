import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { parsePrometheusText } from "../src/backends/transport/prometheus.ts";
import { summarizeGauges } from "../src/metrics/server-gauges.ts";
import { DATASET, runCli, startMock, tempDir } from "./helpers/cli.ts";

describe("reading a server's /metrics", () => {
  test("the text format: comments skipped, samples of one name summed over labels, timestamps ignored", () => {
    const text = [
      "# HELP vllm:num_requests_running Number of requests in model execution batches.",
      "# TYPE vllm:num_requests_running gauge",
      'vllm:num_requests_running{engine="0",model_name="m"} 3.0',
      'vllm:num_requests_running{engine="1",model_name="m"} 2.0',
      'vllm:num_requests_waiting{model_name="m", note="a } b"} 7',
      "lightllm_queue_size 4 1718000000000",
      "process_start_time_seconds 1.7e9",
      "broken_line NaN",
      "",
    ].join("\n");
    const values = parsePrometheusText(text);
    expect(values.get("vllm:num_requests_running")).toBe(5);
    expect(values.get("lightllm_queue_size")).toBe(4);
    expect(values.get("process_start_time_seconds")).toBe(1.7e9);
    expect(values.has("broken_line")).toBe(false);
    expect(values.size).toBe(4);
  });

  test("gauge statistics per name, over the samples that had it", () => {
    const stats = summarizeGauges([{ running: 2, waiting: 0 }, { running: 4 }, { running: 6, waiting: 3 }]);
    expect(stats).toEqual({
      running: { mean: 4, min: 2, max: 6, samples: 3 },
      waiting: { mean: 1.5, min: 0, max: 3, samples: 2 },
    });
    expect(summarizeGauges([])).toEqual({});
  });
});

describe("server gauges sampled during a run", () => {
  test("a batching server with 4 slots and 12 clients: 4 running, 8 waiting", async () => {
    const dir = tempDir();
    const mock = await startMock(["--max-batch", "4", "--step-ms", "8"]);
    try {
      const result = await runCli([
        "run", "--base-url", mock.url, "--model", "m", "--dataset-path", DATASET, "--output-len", "100",
        "--num-clients", "12", "--num-requests", "36", "--ramp-up-time", "0", "--result-dir", dir,
      ]);
      expect(result.exitCode).toBe(0);
      const summary = await Bun.file(join(dir, "summary.json")).json();
      expect(summary.server_gauges.status).toBe("sampled");
      expect(summary.server_gauges.gauges.running.max).toBe(4);
      expect(summary.server_gauges.gauges.waiting.max).toBe(8);
      expect(summary.server_gauges.gauges.running.samples).toBeGreaterThanOrEqual(3);
      expect(summary.server_max_running).toBe(4);
      expect(result.stdout).toContain("server     running mean");
    } finally {
      await mock.stop();
    }
  }, 60_000);

  test("LightLLM's and SGLang's gauges under their own names; off when asked; named when the server has none", async () => {
    const dir = tempDir();
    const mock = await startMock(["--protocol", "lightllm,sglang,trtllm", "--ttft-ms", "5", "--itl-ms", "20"]);
    try {
      const run = async (name: string, ...args: string[]) => {
        const result = await runCli([
          "run", "--model", "m", "--dataset-path", DATASET, "--output-len", "60", "--num-clients", "3", "--num-requests", "6",
          "--ramp-up-time", "0", "--result-dir", join(dir, name), ...args,
        ]);
        expect(result.exitCode).toBe(0);
        return (await Bun.file(join(dir, name, "summary.json")).json()).server_gauges;
      };
      const lightllm = await run("lightllm", "--backend", "lightllm", "--base-url", mock.urls.lightllm!);
      expect(lightllm.status).toBe("sampled");
      expect(lightllm.gauges.running.max).toBe(3);
      expect(lightllm.gauges.waiting.max).toBe(0);
      const off = await run("off", "--backend", "lightllm", "--base-url", mock.urls.lightllm!, "--no-server-metrics");
      expect(off).toEqual({ status: "off", gauges: {} });
      const sglang = await run("sglang", "--backend", "sglang", "--base-url", mock.urls.sglang!);
      expect(sglang.status).toBe("sampled");
      expect(sglang.gauges.running.max).toBe(3);
      // no prefix cache, no counters: nothing to take the growth of
      expect(sglang.prefix_cache).toBeUndefined();
      const trtllm = await run("trtllm", "--backend", "trtllm", "--base-url", mock.urls.trtllm!);
      expect(trtllm.status).toBe("not available: the server serves no /metrics with known gauges");
    } finally {
      await mock.stop();
    }
  }, 60_000);
});
