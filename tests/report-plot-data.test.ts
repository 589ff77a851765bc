import { describe, expect, test } from "bun:test";
import { bucketLength, eachTokenEvent, histogram, histogramOfChunks, timeline, timelineOf, type TimelineRequest } from "../src/report/plot-data.ts";
import { ratioText } from "../src/report/html/compare-report.ts";
import { redact, type ReportRun } from "../src/report/run-data.ts";
import { workloadDifferences, workloadOf } from "../src/report/workload.ts";

describe("histogram", () => {
  test("equal-width bins from min to max, the maximum in the last bin", () => {
    const h = histogram([0, 1, 2, 3, 4, 5, 6, 7, 8, 10], 5);
    expect(h.width).toBe(2);
    expect(h.edges).toEqual([0, 2, 4, 6, 8]);
    expect(h.counts).toEqual([2, 2, 2, 2, 2]);
  });

  test("√n bins by default, at least 5", () => {
    expect(histogram(Array.from({ length: 100 }, (_, i) => i)).counts.length).toBe(10);
    expect(histogram([1, 2, 3]).counts.length).toBe(5);
    expect(histogram(Array.from({ length: 10_000 }, (_, i) => i)).counts.length).toBe(60);
  });

  test("counts add up to the number of values", () => {
    const values = Float64Array.from({ length: 997 }, (_, i) => Math.sin(i) * 40 + 50);
    expect(histogram(values).counts.reduce((a, b) => a + b, 0)).toBe(997);
  });

  test("one repeated value: one bin centred on it", () => {
    expect(histogram([20, 20, 20])).toEqual({ edges: [19], width: 2, counts: [3] });
    expect(histogram([])).toEqual({ edges: [], width: 0, counts: [] });
  });
});

describe("timeline", () => {
  test("bucket length: 100 ms steps of 1, 2, 5 keeping at most the given count", () => {
    expect(bucketLength(5_000, 200)).toBe(100);
    expect(bucketLength(30_000, 200)).toBe(200);
    expect(bucketLength(60_000, 200)).toBe(500);
    expect(bucketLength(300_000, 200)).toBe(2000);
  });

  const request = (send: number, done: number, events: [number, number][], status: "ok" | "failed" = "ok"): TimelineRequest => ({
    sent: true,
    send_ms: send,
    done_ms: done,
    status,
    ttft_ms: status === "ok" ? events[0]![0] : null,
    events,
  });

  test("in flight as a time average, tokens per second and TTFT per bucket, failures where they ended", () => {
    // Span 1000..1400 ms: four 100 ms buckets.
    const line = timeline([
      request(1000, 400, [[50, 1], [150, 2], [350, 1]]), // in flight the whole span
      request(1100, 100, [[20, 1], [90, 1]]), // in flight for bucket 1 only
      request(1250, 100, [], "failed"), // half of bucket 2, half of bucket 3
    ])!;
    expect(line.startMs).toBe(1000);
    expect(line.bucketMs).toBe(100);
    expect(line.endMs).toBe(1400);
    expect(line.t).toEqual([0.05, 0.15, 0.25, 0.35]);
    expect(line.inFlight).toEqual([1, 2, 1.5, 1.5]);
    // Tokens: bucket 0 gets 1; bucket 1: 2 (first request at 1150) + 1 + 1 (second at 1120, 1190); bucket 3: 1.
    expect(line.tokensPerS).toEqual([10, 40, 0, 10]);
    expect(line.ttftMs).toEqual([50, 20, null, null]);
    expect(line.failed).toEqual([0, 0, 0, 1]);
  });

  test("token events packed in a Float64Array (as the report reads records) give the same timeline as pairs", () => {
    const pairs = [request(1000, 400, [[50, 1], [150, 2], [350, 1]]), request(1100, 100, [[20, 1], [90, 0], [95, 1]])];
    const packed = pairs.map((r) => ({ ...r, events: Float64Array.from((r.events as [number, number][]).flat()) }));
    expect(timeline(packed)).toEqual(timeline(pairs)!);
    expect(timeline(packed)!.tokensPerS).toEqual([10, 40, 0, 10]);
  });

  test("token events handed in afterwards (the report's second read of requests.jsonl) give the same timeline", () => {
    const requests = [request(1000, 400, [[50, 1], [150, 2], [350, 1]]), request(1100, 100, [[20, 1], [90, 1]]), request(1250, 100, [], "failed")];
    const spans = requests.map(({ events: _events, ...span }) => span);
    let handed = 0;
    const line = timelineOf(spans, (add) => {
      for (const r of requests) eachTokenEvent(r.events, r.send_ms, (at, n) => (handed++, add(at, n)));
    });
    expect(line).toEqual(timeline(requests)!);
    expect(line!.tokensPerS).toEqual([10, 40, 0, 10]);
    expect(handed).toBe(5);
  });

  test("a shorter last bucket is averaged over its own length", () => {
    const line = timeline([request(0, 150, [[10, 1], [140, 3]])])!;
    expect(line.bucketMs).toBe(100);
    expect(line.inFlight).toEqual([1, 1]);
    expect(line.t).toEqual([0.05, 0.125]);
    expect(line.tokensPerS[1]).toBeCloseTo(3 / 0.05, 9);
  });

  test("nothing sent: no timeline", () => {
    expect(timeline([{ ...request(0, 10, [], "failed"), sent: false }])).toBeNull();
  });
});

describe("comparisons", () => {
  test("workload fields that differ, with every run's value", () => {
    const differences = workloadDifferences([
      { "dataset.path": "samples_1024.json", "sweep.stopTimeS": "300", "sweep.seed": "0" },
      { "dataset.path": "samples_1024.json", "sweep.stopTimeS": "60", "sweep.seed": "0" },
      { "dataset.path": "samples_1024.json", "sweep.stopTimeS": "300" },
    ]);
    expect(differences).toEqual([
      { field: "sweep.stopTimeS", values: ["300", "60", "300"] },
      { field: "sweep.seed", values: ["0", "0", "(absent)"] },
    ]);
  });

  test("a point's own settings compare only between runs that have the point", () => {
    const differences = workloadDifferences([
      { "at clients=4: rampUpS": "0.4", "at clients=8: rampUpS": "0.8" },
      { "at clients=4: rampUpS": "0.4", "at clients=16: rampUpS": "1.6" },
      { "at clients=4: rampUpS": "2", "at clients=8: rampUpS": "0.8" },
    ]);
    expect(differences).toEqual([{ field: "at clients=4: rampUpS", values: ["0.4", "0.4", "2"] }]);
  });

  test("a sweep's settings and a run's workload in one vocabulary: the same workload compares", () => {
    const sweep = {
      kind: "sweep",
      xAxis: "clients",
      points: [],
      settings: {
        dataset: { path: "/data/samples_1024.json", tokenizer: "cl100k_base", outputLen: null, systemPrompt: { enabled: false, path: null } },
        sweep: { points: [{ kind: "clients", clients: 4, rampUpS: 0.4 }], numRequests: 100, stopTimeS: null, drainTimeoutS: 60, requestTimeoutS: 600, seed: 0, turns: 1 },
      },
    } as unknown as ReportRun;
    const runWith = (rampUp: number) =>
      ({
        kind: "run",
        xAxis: "clients",
        settings: null,
        points: [{ key: "clients=4", summary: { workload: {
          dataset: "/home/me/samples_1024.json", synthetic: null, tokenizer: "cl100k_base", output_len: null, system_prompt: null,
          min_input_len: null, max_input_len: null, max_total_len: null, num_requests: 100, stop_time_s: null, ramp_up_s: rampUp,
          burstiness: null, max_concurrency: null, turns: 1, think_time_s: null, seed: 0, warmup_requests: null,
        } } }],
      }) as unknown as ReportRun;
    expect(workloadOf(sweep)).toEqual({ load: "clients", dataset: "samples_1024.json", tokenizer: "cl100k_base", num_requests: "100", seed: "0", turns: "1", "at clients=4: ramp_up_s": "0.4" });
    expect(workloadDifferences([workloadOf(sweep), workloadOf(runWith(0.4))])).toEqual([]);
    expect(workloadDifferences([workloadOf(sweep), workloadOf(runWith(1))])).toEqual([{ field: "at clients=4: ramp_up_s", values: ["0.4", "1"] }]);
  });

  test("ratios of a run's number to the first run's", () => {
    expect(ratioText(200, 250)).toBe("1.25×");
    expect(ratioText(0, 5)).toBe("—");
    expect(ratioText(null, 5)).toBe("—");
  });

  test("identity redaction: secret-looking keys and argv options, not where a key came from", () => {
    expect(
      redact({
        api_key: "from $OPENAI_API_KEY (redacted)",
        env: { HF_TOKEN: "hf_abc", CUDA_VISIBLE_DEVICES: "0" },
        apiKeyEnv: "OPENAI_API_KEY",
        command: ["vllm", "serve", "--api-key", "sk-123", "--port", "8000"],
      }),
    ).toEqual({
      api_key: "from $OPENAI_API_KEY (redacted)",
      env: { HF_TOKEN: "<redacted>", CUDA_VISIBLE_DEVICES: "0" },
      apiKeyEnv: "OPENAI_API_KEY",
      command: ["vllm", "serve", "--api-key", "<redacted>", "--port", "8000"],
    });
  });
});

test("a histogram of many arrays (a per-token metric, one array per request) is the histogram of them joined", () => {
  const chunks = [new Float32Array([5, 1.5, 9]), new Float32Array(0), new Float32Array([2, 2, 7.25]), new Float32Array([3])];
  const joined = chunks.flatMap((chunk) => Array.from(chunk));
  expect(histogramOfChunks(chunks)).toEqual(histogram(joined));
  expect(histogramOfChunks(chunks, 4)).toEqual(histogram(joined, 4));
  // by hand: 1.5 .. 9 in 4 bins of 1.875: [1.5, 2, 2, 3] [5] [] [7.25, 9]
  expect(histogramOfChunks(chunks, 4).counts).toEqual([4, 1, 0, 2]);
  expect(histogramOfChunks([new Float32Array(0)])).toEqual({ edges: [], width: 0, counts: [] });
});
