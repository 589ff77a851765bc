/** Help pages with options grouped by what they are about, and examples. */

interface HelpSection {
  title?: string;
  body: string;
}

type Groups = [title: string, options: string[]][];

const RUN_GROUPS: Groups = [
  ["Server", ["--backend", "--base-url", "--host", "--port", "--endpoint", "--model", "--api-key-env", "--insecure", "--ppl-proto", "--extra-body", "--header", "--temperature", "--top-p", "--top-k", "--ignore-eos", "--no-server-metrics", "--no-preconnect", "--preconnect-rate"]],
  ["Workload", ["--num-requests", "--num-prompts", "--num-clients", "--num-threads", "--ramp-up-time", "--request-rate", "--burstiness", "--max-concurrency", "--num-turns", "--think-time", "--warmup-requests", "--stop-time", "--thread-stop-time", "--drain-timeout", "--request-timeout", "--seed"]],
  ["Dataset", ["--dataset-path", "--dataset", "--dataset-name", "--input-len", "--input-len-std", "--output-len", "--output-len-std", "--prefix-len", "--random-input-len", "--random-output-len", "--random-range-ratio", "--random-prefix-len", "--sharegpt-output-len", "--min-input-len", "--max-input-len", "--max-total-len", "--system-prompt-path", "--tokenizer"]],
  ["Output", ["--result-dir", "--save-result", "--save-detailed", "--result-filename", "--metric-percentiles", "--percentile-metrics", "--goodput", "--threshold", "--model-size", "--tp", "--mode", "--no-progress"]],
];

const SWEEP_GROUPS: Groups = [
  ["Points", ["--clients", "--rates", "--input-lens", "--output-lens", "--find-max", "--slo", "--search-resolution"]],
  // every run setting, over the config's field of the same name at every point
  ...RUN_GROUPS.map(([title, options]): [string, string[]] => [`${title} (overrides the config)`, options.filter((option) => option !== "--result-dir" && option !== "--no-progress")]),
  ["Output", ["--output-dir", "--no-doctor", "--no-progress"]],
];

const GROUPS: Record<string, Groups> = { run: RUN_GROUPS, sweep: SWEEP_GROUPS };

const EXAMPLES: Record<string, string[]> = {
  run: [
    "llmbench run --backend vllm --base-url http://127.0.0.1:8000 --model M --dataset-path sharegpt.json --num-clients 16 --num-requests 500",
    "llmbench run --dataset synthetic --input-len 1024 --output-len 128 --request-rate 4 --stop-time 60 --metric-percentiles 50,90,99,99.9",
    "llmbench run --dataset-name random --random-input-len 1000 --random-output-len 200 --num-prompts 100 --max-concurrency 8 --save-result",
    "llmbench run --dataset-path d.json --num-requests 200 --threshold 'p99_ttft<2000' --threshold 'success_rate>=0.99'",
  ],
  sweep: [
    "llmbench sweep bench.config.ts",
    "llmbench sweep examples/vllm.config.ts --clients 1,4,16 --num-requests 200",
    "llmbench sweep bench.config.ts --threshold 'p99_ttft<2000' --metric-percentiles 50,99,99.9",
    "llmbench sweep bench.config.ts --input-lens 1024 --output-lens 1024 --clients 1,4,16,64,256 --warmup-requests 8",
  ],
  server: [
    "llmbench server start bench.config.ts    launch the config's server, wait until ready, leave it running",
    "llmbench server status bench.config.ts   exit 0 up and ready, 1 up but not ready, 3 not running",
    "llmbench server stop bench.config.ts     stop it and its whole process group",
  ],
  history: ["llmbench history", "llmbench history --json --limit 5"],
  compare: ["llmbench compare 3 latest", "llmbench compare 3 latest --json"],
};

/** The option a help line describes: "  --num-clients <n>  ..." → "--num-clients"; "-h, --help" → "--help". */
function optionOf(line: string): string | null {
  return /^\s+(?:-\w, )?(--[\w-]+)/.exec(line)?.[1] ?? null;
}

/** Splits the Options section into the command's groups (options of no group stay under "Options"), and adds examples. */
export function groupHelp(command: string, sections: HelpSection[]): HelpSection[] {
  const groups = GROUPS[command];
  let result = sections;
  if (groups) {
    result = sections.flatMap((section) => {
      if (section.title !== "Options") return [section];
      // cac prints "(default: true)" after a --no-x option: true is x's default, not --no-x's.
      const lines = section.body.split("\n").map((line) => (/^\s+--no-/.test(line) ? line.replace(/\s*\(default: true\)/, "") : line));
      const grouped = groups.map(([title, options]) => ({ title: `${title} options`, body: lines.filter((line) => options.includes(optionOf(line) ?? "")).join("\n") }));
      const placed = new Set(groups.flatMap(([, options]) => options));
      const rest = lines.filter((line) => !placed.has(optionOf(line) ?? ""));
      return [...grouped.filter((group) => group.body !== ""), ...(rest.length > 0 ? [{ title: "Other options", body: rest.join("\n") }] : [])];
    });
  }
  const examples = EXAMPLES[command];
  if (examples && !result.some((section) => section.title === "Examples")) result = [...result, { title: "Examples", body: examples.map((line) => `  ${line}`).join("\n") }];
  return result;
}
