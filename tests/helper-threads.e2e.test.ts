import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { llmbenchArgv, readJsonl, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

/**
 * While a point runs, every thread of the client but the one reading the sockets runs at nice 19
 * (src/common/helper-threads.ts): a JIT compile or GC helper sharing the client's core gives way
 * as soon as a read is due.
 */
let mock: MockHandle;
beforeAll(async () => {
  mock = await startMock(["--ttft-ms", "0", "--itl-ms", "25"]);
});
afterAll(async () => {
  await mock.stop();
});

/** Each thread's nice value (field 19 of /proc/PID/task/TID/stat), by thread id; null once the process is gone. */
function threadNices(pid: number): Map<number, number> | null {
  const nices = new Map<number, number>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd on
      nices.set(Number(tid), Number(fields[16]));
    }
  } catch {
    return nices.size === 0 ? null : nices;
  }
  return nices;
}

describe.skipIf(process.platform !== "linux")("the client's helper threads give way to its main thread", () => {
  test("while streaming: the main thread at nice 0, every other thread at 19", async () => {
    const dir = join(tempDir(), "helpers");
    const child = Bun.spawn(
      llmbenchArgv(
        "run", "--base-url", mock.url, "--model", "mock-7b", "--dataset", "synthetic", "--input-len", "16", "--output-len", "160",
        "--num-clients", "4", "--num-requests", "8", "--ramp-up-time", "0", "--no-progress", "--no-server-metrics", "--result-dir", dir,
      ),
      { stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    // threads come and go (a helper started since the last second's check is still at 0): the
    // claim holds once a look finds helpers and every one of them at 19
    let settled: Map<number, number> | null = null;
    let last: Map<number, number> | null = null;
    while (settled === null) {
      const seen = threadNices(child.pid);
      if (seen === null) break; // exited
      last = seen;
      const helpers = [...seen].filter(([tid]) => tid !== child.pid);
      if (helpers.length > 0 && helpers.every(([, nice]) => nice === 19)) settled = seen;
      else await Bun.sleep(100);
    }
    const code = await child.exited;
    clearTimeout(killer);
    if (code !== 0) console.error(await new Response(child.stderr).text());
    expect(code).toBe(0);
    expect(settled === null ? [...(last ?? [])] : "settled").toBe("settled");
    expect(settled!.get(child.pid)).toBe(0);
    const records = await readJsonl<{ status: string }>(join(dir, "requests.jsonl"));
    expect(records.map((record) => record.status)).toEqual(Array(8).fill("ok"));
  }, 120_000);
});
