import type { Backend, ChatMessage } from "../backends/backend.ts";
import type { ConversationPlan, ConversationSampler } from "../dataset/sampler.ts";
import { seededRandom } from "../dataset/prng.ts";
import type { MeasuredRecord } from "../records/record.ts";
import { statsOf, type RequestStats } from "../metrics/request-stats.ts";
import { runClosedLoop } from "../workload/closed-loop.ts";
import { runOpenLoop } from "../workload/open-loop.ts";
import { closedLoopShare, shareOf } from "../workload/shards.ts";
import type { LoadSettings } from "../config/run-settings.ts";
import type { LoopTiming } from "../workload/timing.ts";
import { measureRequest, unsentRecord, type RequestIdentity } from "./measure-request.ts";
import { RecordQueue } from "./record-queue.ts";
import { RequestSignals } from "./request-signals.ts";
import { keepCompilersBehind } from "../common/helper-threads.ts";
import type { LoadedTrace } from "../dataset/trace.ts";
import { replayTrace } from "./trace-point.ts";

/** How a point loads the server: its settings, and (for a trace replay) the loaded trace. */
export interface LoadShape extends LoadSettings {
  /** Replay this trace (each request at its offset) instead of clients or a rate. */
  trace?: LoadedTrace | null;
}

export interface PointSetup {
  backend: Backend;
  sampler: ConversationSampler;
  shape: LoadShape;
  /** Called as each request starts and as it finishes (progress display, requests.jsonl). */
  onSent?: () => void;
  /** The record and what the metrics keep of it (the live panel reads the latter). */
  onRecord: (record: MeasuredRecord, stats: RequestStats) => void;
  /** Aborting it (Ctrl-C) cancels the requests in flight; they are recorded as failed. */
  interrupt?: AbortSignal;
}

export interface PointRecords {
  /** What the metrics need of every request; the records themselves went to `onRecord`. */
  requests: RequestStats[];
  timing: LoopTiming;
}

/** One benchmark point: closed-loop users or open-loop arrivals; every record goes to `onRecord` soon after it finishes (record-queue.ts). */
export async function runPoint(setup: PointSetup): Promise<PointRecords> {
  const requests: RequestStats[] = [];
  const records = new RecordQueue<MeasuredRecord>((record) => {
    const stats = statsOf(record);
    requests.push(stats);
    setup.onRecord(record, stats);
  });
  const releaseCompilers = keepCompilersBehind();
  try {
    return { requests, timing: await runLoad(setup, (record) => records.push(record)) };
  } finally {
    try {
      await records.drained();
    } finally {
      releaseCompilers();
    }
  }
}

/** Plays the point's load; each request's record goes to `keep` as it finishes. */
async function runLoad(setup: PointSetup, keep: (record: MeasuredRecord) => void): Promise<LoopTiming> {
  const { backend, sampler, shape } = setup;
  let nextId = 0;

  // Only a conversation's later turns send an answer back (trace replays may have turns too).
  const keepText = shape.trace ? true : shape.requestRate === null && shape.numTurns > 1;
  const signals = new RequestSignals(shape.requestTimeoutS);
  const sendTurn = async (identity: RequestIdentity, history: ChatMessage[], text: string, outputLen: number, cancel: AbortSignal) => {
    const messages = sampler.messages(history, text);
    const abort = signals.openUnder(cancel);
    setup.onSent?.();
    let measured;
    try {
      measured = await measureRequest(backend, { id: nextId++, messages, outputLen, keepText }, identity, abort.signal);
    } finally {
      signals.close(abort);
    }
    const record = measured.record;
    keep(record);
    return { record, messages, answer: measured.text };
  };

  if (shape.trace) return await replayTrace(shape.trace, shape, sampler, sendTurn, keep, setup.interrupt);

  if (shape.requestRate !== null) {
    const timing = await runOpenLoop(
      {
        rate: shape.requestRate,
        burstiness: shape.burstiness,
        maxConcurrency: shape.maxConcurrency === null || !shape.shard ? shape.maxConcurrency : shareOf(shape.maxConcurrency, shape.shard),
        // the global budget: the schedule is the global one, of which this shard sends its requests
        maxRequests: shape.numRequests,
        ...(shape.shard ? { shard: shape.shard } : {}),
        stopTimeS: shape.stopTimeS,
        drainTimeoutS: shape.drainTimeoutS,
        seed: shape.seed,
      },
      async (request, arrivedAt, cancel, notSent) => {
        const plan = sampler.requestPlan(shape.seed, request);
        const turn = plan.turns[0]!;
        const identity: RequestIdentity = {
          user: request, seq: 0, conversation: String(request), turn: 0,
          promptIndex: plan.index, inTokens: plan.firstTurnInTokens, arrivedAt,
        };
        if (notSent !== null) {
          keep(unsentRecord(identity, turn.outputLen, notSent));
          return;
        }
        await sendTurn(identity, [], turn.text, turn.outputLen, cancel);
      },
      setup.interrupt,
    );
    return timing;
  }

  const users = new Map<number, UserConversations>();
  const share = shape.shard ? closedLoopShare(shape.numClients, shape.numRequests, shape.shard) : null;
  const timing = await runClosedLoop(
    {
      clients: shape.numClients, rampUpS: shape.rampUpTimeS, stopTimeS: shape.stopTimeS, drainTimeoutS: shape.drainTimeoutS,
      maxRequests: share ? share.maxRequests : shape.numRequests,
      ...(share ? { users: share.users } : {}),
    },
    async (user, seq, cancel) => {
      let state = users.get(user);
      if (!state) users.set(user, (state = new UserConversations(sampler, shape, user)));
      const { plan, turn, history, id } = state.current();
      const planned = plan.turns[turn % plan.turns.length]!;
      const inTokens = turn === 0 ? plan.firstTurnInTokens : sampler.countInput(sampler.messages(history, planned.text));
      const identity: RequestIdentity = { user, seq, conversation: id, turn, promptIndex: plan.index, inTokens };
      const { record, messages, answer } = await sendTurn(identity, history, planned.text, planned.outputLen, cancel);
      return state.advance(record.status === "ok", messages, answer);
    },
    setup.interrupt,
  );
  return timing;
}

/** One virtual user's conversations: which one it is in, at which turn, with what history. */
class UserConversations {
  private readonly nextPlan: () => ConversationPlan;
  /** Think times' draws; none without a think time (thousands of users: no closure each for nothing). */
  private readonly thinkRandom: (() => number) | null;
  private plan: ConversationPlan | null = null;
  private turn = 0;
  private history: ChatMessage[] = [];
  private count = -1;

  constructor(sampler: ConversationSampler, private readonly shape: LoadShape, private readonly user: number) {
    this.nextPlan = sampler.userSequence(shape.seed, user);
    this.thinkRandom = shape.thinkTimeS > 0 ? seededRandom(shape.seed, user, 0x7468696e) : null;
  }

  current(): { plan: ConversationPlan; turn: number; history: ChatMessage[]; id: string } {
    if (this.plan === null || this.turn >= this.shape.numTurns) {
      this.plan = this.nextPlan();
      this.turn = 0;
      this.history = [];
      this.count++;
    }
    return { plan: this.plan, turn: this.turn, history: this.history, id: `${this.user}.${this.count}` };
  }

  /** After a turn: keep its exchange as history, or drop a conversation whose turn failed. Returns the think time (ms). */
  advance(ok: boolean, sent: ChatMessage[], answer: string): number {
    if (!ok) {
      this.plan = null;
      return 0;
    }
    this.history = [...sent.filter((message) => message.role !== "system"), { role: "assistant", content: answer }];
    this.turn++;
    const random = this.thinkRandom;
    return this.turn < this.shape.numTurns && random !== null ? -Math.log(1 - random()) * this.shape.thinkTimeS * 1000 : 0;
  }
}
