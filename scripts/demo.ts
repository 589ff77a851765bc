/**
 * The README's first command ends here: start the built-in simulator, benchmark it with the
 * dataset shipped in datasets/, stop it. Uses the compiled ./llmbench.
 */
import { resolve } from "node:path";

const root = resolve(import.meta.dir, "..");
const bin = resolve(root, "llmbench");
const mock = Bun.spawn([bin, "mock", "--port", "0"], { cwd: root, stdout: "pipe", stderr: "inherit" });
const reader = mock.stdout.getReader();
let banner = "";
let url: string | undefined;
while (!url) {
  const { value, done } = await reader.read();
  if (done) throw new Error(`the simulator did not start: ${banner}`);
  banner += new TextDecoder().decode(value);
  url = /listening on (http:\/\/\S+)/.exec(banner)?.[1];
}
console.log(banner.trim());
const run = Bun.spawn(
  [bin, "run", "--backend", "vllm", "--base-url", url, "--model", "mock-model",
    "--dataset-path", "datasets/sharegpt_sample.json", "--num-clients", "16", "--num-requests", "128", "--output-len", "64"],
  { cwd: root, stdout: "inherit", stderr: "inherit" },
);
const code = await run.exited;
mock.kill("SIGTERM");
await mock.exited;
process.exit(code);
