/**
 * Trace replay: each request of the trace leaves at its planned offset, scheduled by the open
 * loop (the same timer as rate mode). The turns of a session are a conversation: a turn waits
 * for the one before it (and sends its history with the server's real answer), so its send may
 * come after its planned time; `queue_wait_ms` and `planned_ms` show by how much.
 */
import type { ChatMessage } from "../backends/backend.ts";
import type { ConversationSampler } from "../dataset/sampler.ts";
import type { LoadedTrace } from "../dataset/trace.ts";
import type { MeasuredRecord } from "../records/record.ts";
import { runOpenLoop } from "../workload/open-loop.ts";
import type { LoopTiming } from "../workload/timing.ts";
import { unsentRecord, type RequestIdentity } from "./measure-request.ts";
import type { LoadSettings } from "../config/run-settings.ts";

export type SendTurn = (
  identity: RequestIdentity,
  history: ChatMessage[],
  text: string,
  outputLen: number,
  cancel: AbortSignal,
) => Promise<{ record: MeasuredRecord; messages: ChatMessage[]; answer: string }>;

interface Session {
  /** Resolves when the latest turn sent has finished. */
  done: Promise<void>;
  history: ChatMessage[];
}

export async function replayTrace(
  trace: LoadedTrace,
  shape: LoadSettings,
  sampler: ConversationSampler,
  sendTurn: SendTurn,
  keep: (record: MeasuredRecord) => void,
  interrupt?: AbortSignal,
): Promise<LoopTiming> {
  const { requests } = trace;
  // First turns' input tokens now: tokenizing long prompts must not delay a send.
  const firstTurnTokens = requests.map((request) => (request.turn === 0 ? sampler.countInput(sampler.messages([], request.text)) : 0));
  const sessions = new Map<string, Session>();
  return runOpenLoop(
    {
      rate: 1,
      burstiness: 1,
      maxConcurrency: shape.maxConcurrency,
      maxRequests: shape.numRequests,
      stopTimeS: shape.stopTimeS,
      drainTimeoutS: shape.drainTimeoutS,
      seed: shape.seed,
      offsetsMs: requests.map((request) => request.plannedMs),
    },
    async (index, arrivedAt, cancel, notSent) => {
      const request = requests[index]!;
      const previous = sessions.get(request.conversation);
      let finished!: () => void;
      const session: Session = { done: new Promise<void>((resolve) => (finished = resolve)), history: [] };
      sessions.set(request.conversation, session);
      try {
        if (previous) await previous.done;
        // The history as the turn before left it (its exchange added when it succeeded).
        const history = previous?.history ?? [];
        session.history = history;
        const identity: RequestIdentity = {
          user: index,
          seq: 0,
          conversation: request.conversation,
          turn: request.turn,
          promptIndex: request.line,
          inTokens: request.turn === 0 ? firstTurnTokens[index]! : sampler.countInput(sampler.messages(history, request.text)),
          arrivedAt,
          plannedMs: request.plannedMs,
        };
        if (notSent !== null || cancel.aborted) {
          keep(unsentRecord(identity, request.outputLen, notSent ?? "not sent: the point stopped while the turn before it ran"));
          return;
        }
        const { record, messages, answer } = await sendTurn(identity, history, request.text, request.outputLen, cancel);
        if (record.status === "ok") session.history = [...messages.filter((m) => m.role !== "system"), { role: "assistant", content: answer }];
      } finally {
        finished();
      }
    },
    interrupt,
  );
}
