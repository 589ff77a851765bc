import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { llmbenchArgv, readJsonl, startMock, tempDir, type MockHandle } from "./helpers/cli.ts";

/**
 * While a point runs, the client's JIT compiler threads run at nice 19 (src/common/helper-threads.ts):
 * a compile sharing the client's core gives way as soon as a read is due. The main thread and the
 * garbage collector's threads (which the main thread waits for in a collection's pauses) keep theirs.
 */
let mock: MockHandle;
beforeAll(async () => {
  mock = await startMock(["--ttft-ms", "0", "--itl-ms", "25"]);
});
afterAll(async () => {
  await mock.stop();
});

interface ThreadNice {
  name: string;
  nice: number;
}

/** Each thread's name and nice value (field 19 of /proc/PID/task/TID/stat), by thread id; null once the process is gone. */
function threadNices(pid: number): Map<number, ThreadNice> | null {
  const nices = new Map<number, ThreadNice>();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" "); // fields from the 3rd on
      nices.set(Number(tid), { name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), nice: Number(fields[16]) });
    }
  } catch {
    return nices.size === 0 ? null : nices;
  }
  return nices;
}

describe.skipIf(process.platform !== "linux")("the client's compiler threads give way to its main thread", () => {
  test("while streaming: the JIT's threads at nice 19; the main thread and the rest at 0", async () => {
    const dir = join(tempDir(), "helpers");
    const child = Bun.spawn(
      llmbenchArgv(
        "run", "--base-url", mock.url, "--model", "mock-7b", "--dataset", "synthetic", "--input-len", "16", "--output-len", "160",
        "--num-clients", "4", "--num-requests", "8", "--ramp-up-time", "0", "--no-progress", "--no-server-metrics", "--result-dir", dir,
      ),
      { stdout: "ignore", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
    );
    const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
    // threads come and go (a compiler started since the last second's check is still at 0): the
    // claim holds once a look finds compilers and every one of them at 19
    let settled: Map<number, ThreadNice> | null = null;
    let last: Map<number, ThreadNice> | null = null;
    while (settled === null) {
      const seen = threadNices(child.pid);
      if (seen === null) break; // exited
      last = seen;
      const compilers = [...seen.values()].filter((thread) => thread.name.startsWith("JITWorker"));
      if (compilers.length > 0 && compilers.every((thread) => thread.nice === 19)) settled = seen;
      else await Bun.sleep(100);
    }
    const code = await child.exited;
    clearTimeout(killer);
    if (code !== 0) console.error(await new Response(child.stderr).text());
    expect(code).toBe(0);
    expect(settled === null ? [...(last ?? [])] : "settled").toBe("settled");
    expect(settled!.get(child.pid)!.nice).toBe(0);
    const others = [...settled!.values()].filter((thread) => !thread.name.startsWith("JITWorker"));
    expect(others.filter((thread) => thread.nice !== 0)).toEqual([]); // the collector's threads above all
    const records = await readJsonl<{ status: string }>(join(dir, "requests.jsonl"));
    expect(records.map((record) => record.status)).toEqual(Array(8).fill("ok"));
  }, 120_000);
});
