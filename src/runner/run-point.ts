import type { Backend } from "../backends/backend.ts";
import type { PromptPool, Prompt } from "../dataset/prompt-pool.ts";
import type { RequestRecord } from "../records/record.ts";
import { runClosedLoop, type ClosedLoopPlan } from "../workload/closed-loop.ts";
import { measureRequest } from "./measure-request.ts";

export interface PointSetup {
  backend: Backend;
  pool: PromptPool;
  seed: number;
  plan: ClosedLoopPlan;
  requestTimeoutS: number;
  /** Called as each request starts and as it finishes (progress display, requests.jsonl). */
  onSent?: () => void;
  onRecord: (record: RequestRecord) => void;
  /** Aborting it (Ctrl-C) cancels the requests in flight; they are recorded as failed. */
  interrupt?: AbortSignal;
}

/** One benchmark point: closed-loop users sending their own prompt sequences; returns every record. */
export async function runPoint(setup: PointSetup): Promise<RequestRecord[]> {
  const records: RequestRecord[] = [];
  const sequences = new Map<number, () => Prompt>();
  let nextId = 0;

  await runClosedLoop(
    setup.plan,
    async (user, seq, cancel) => {
      let next = sequences.get(user);
      if (!next) sequences.set(user, (next = setup.pool.userSequence(setup.seed, user)));
      const prompt = next();
      const timeout = AbortSignal.timeout(setup.requestTimeoutS * 1000);
      const signal = AbortSignal.any([cancel, timeout]);
      setup.onSent?.();
      const record = await measureRequest(
        setup.backend,
        { id: nextId++, messages: [{ role: "user", content: prompt.text }], outputLen: prompt.outputLen },
        { user, seq, promptIndex: prompt.index, inTokens: prompt.inTokens },
        signal,
      );
      if (record.status === "failed" && timeout.aborted && !cancel.aborted) record.error = `timeout after ${setup.requestTimeoutS} s (--request-timeout)`;
      records.push(record);
      setup.onRecord(record);
    },
    setup.interrupt,
  );
  return records;
}
