/**
 * The rendezvous of a sharded point (`--rendezvous host:port`): shard 0 listens, every other shard
 * measures its clock offset to shard 0 (several ping-pongs, the one of least round trip) and checks
 * in; once all have, shard 0 announces an absolute start time on its own clock, which each shard
 * turns into its own clock with its offset. Every wait is bounded: a shard that never comes is
 * named, and everyone stops instead of waiting forever.
 *
 * The clocks are the ones the records use (performance.timeOrigin + performance.now()), so the
 * offsets correct exactly the timestamps `llmbench merge` lines up.
 */
import type { RendezvousAddress } from "../config/rendezvous-address.ts";
import type { Shard } from "../workload/shards.ts";

export { parseRendezvousAddress, type RendezvousAddress } from "../config/rendezvous-address.ts";

/** The rendezvous failed (a shard missing, a different plan, shard 0 unreachable): the shard measures nothing. */
export class RendezvousFailed extends Error {}

/** Exit code of a shard whose rendezvous failed. */
export const RENDEZVOUS_FAILED_EXIT_CODE = 4;


export interface RendezvousSpec {
  address: RendezvousAddress;
  shard: Shard;
  planHash: string;
  /** How long a shard waits for the others (shard 0) or for shard 0 (the others) in all. */
  timeoutMs: number;
  /** How far ahead of the last check-in shard 0 puts the start. */
  leadMs?: number;
  /** This process's wall clock in epoch ms; tests give a skewed one. */
  clock?: () => number;
  signal?: AbortSignal;
  /** Called with progress lines for the console (who is still awaited). */
  log?: (line: string) => void;
}

export interface ClockOffset {
  /** This shard's clock minus shard 0's, in ms (0 on shard 0). */
  offsetMs: number;
  /** Round trip of the ping the offset comes from; null on shard 0. */
  rttMs: number | null;
  pings: number;
}

export interface RendezvousResult extends ClockOffset {
  /** The start on shard 0's clock, as it announced it. */
  startAtShardZeroMs: number;
  /** The same moment on this shard's clock. */
  startAtMs: number;
}

export const DEFAULT_LEAD_MS = 1500;
const PINGS = 8;
const POLL_MS = 100;
const REQUEST_TIMEOUT_MS = 2000;
/** How long shard 0 keeps answering after the start, for a shard still asking for it (it will find it is late). */
const LINGER_MS = 10_000;
const VERDICT_GRACE_MS = 3000;

export const wallClock = (): number => performance.timeOrigin + performance.now();

/** "host:port" (an IPv6 host in brackets), as given to --rendezvous. * and receipt (t1) and shard 0's
 * clock in between (s); the sample with the least round trip bounds the error best, by half its RTT.
 */
export function offsetFromPings(samples: { t0: number; s: number; t1: number }[]): ClockOffset {
  if (samples.length === 0) throw new Error("no ping samples");
  let best = samples[0]!;
  for (const sample of samples) if (sample.t1 - sample.t0 < best.t1 - best.t0) best = sample;
  return { offsetMs: (best.t0 + best.t1) / 2 - best.s, rttMs: best.t1 - best.t0, pings: samples.length };
}

export function rendezvous(spec: RendezvousSpec): Promise<RendezvousResult> {
  return spec.shard.index === 0 ? host(spec) : guest(spec);
}

interface CheckIn {
  shard: number;
  count: number;
  plan_hash: string;
  session: string;
  offset_ms: number;
  rtt_ms: number;
}

/** A literal address is bound as given (127.0.0.1 stays local); a name (a pod's DNS name) means every interface. */
function bindHost(host: string): string {
  return /^[\d.]+$/.test(host) || host.includes(":") ? host : "0.0.0.0";
}

function missingOf(count: number, arrived: Map<number, unknown>): string {
  const missing: string[] = [];
  for (let index = 1; index < count; index++) if (!arrived.has(index)) missing.push(`${index}/${count}`);
  return missing.length === 0 ? "none" : `shard${missing.length === 1 ? "" : "s"} ${missing.join(", ")}`;
}

async function host(spec: RendezvousSpec): Promise<RendezvousResult> {
  const clock = spec.clock ?? wallClock;
  const { count } = spec.shard;
  const arrived = new Map<number, CheckIn>();
  const fetched = new Set<number>();
  let startAt: number | null = null;
  let failure: string | null = null;
  let settle!: () => void;
  const settled = new Promise<void>((resolve) => (settle = resolve));

  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: bindHost(spec.address.host),
      port: spec.address.port,
      fetch: async (request) => {
        const url = new URL(request.url);
        if (url.pathname === "/v1/time") return Response.json({ now_ms: clock() });
        if (url.pathname === "/v1/checkin" && request.method === "POST") {
          const body = (await request.json()) as CheckIn;
          const problem = checkInProblem(body, spec, arrived);
          if (problem) {
            failure ??= problem;
            settle();
            return new Response(problem, { status: 409 });
          }
          arrived.set(body.shard, body);
          spec.log?.(`rendezvous: shard ${body.shard}/${count} checked in (clock offset ${body.offset_ms.toFixed(1)} ms, RTT ${body.rtt_ms.toFixed(2)} ms); waiting for ${missingOf(count, arrived)}`);
          if (arrived.size === count - 1) settle();
          return Response.json({ ok: true });
        }
        if (url.pathname === "/v1/start") {
          if (failure !== null) return Response.json({ failed: failure });
          if (startAt === null) return Response.json({ waiting_for: missingOf(count, arrived) });
          fetched.add(Number(url.searchParams.get("shard")));
          return Response.json({ start_at_ms: startAt });
        }
        return new Response("not found", { status: 404 });
      },
    });
  } catch (error) {
    throw new RendezvousFailed(`rendezvous: shard 0 cannot listen on ${spec.address.host}:${spec.address.port} (${(error as Error).message})`);
  }
  const stop = () => server.stop(true);
  if (count === 1) settle();
  const timer = setTimeout(() => {
    failure ??= `shard 0 waited ${spec.timeoutMs / 1000} s (--rendezvous-timeout) and ${missingOf(count, arrived)} did not check in`;
    settle();
  }, spec.timeoutMs);
  const onAbort = () => {
    failure ??= "shard 0 was interrupted before the start";
    settle();
  };
  spec.signal?.addEventListener("abort", onAbort, { once: true });
  await settled;
  clearTimeout(timer);
  spec.signal?.removeEventListener("abort", onAbort);
  if (failure !== null) {
    // the shards still polling learn why, then the server goes
    setTimeout(stop, 3 * POLL_MS + REQUEST_TIMEOUT_MS).unref?.();
    if (spec.signal?.aborted) return { offsetMs: 0, rttMs: null, pings: 0, startAtShardZeroMs: clock(), startAtMs: clock() };
    throw new RendezvousFailed(`rendezvous: ${failure}`);
  }
  startAt = clock() + (spec.leadMs ?? DEFAULT_LEAD_MS);
  // answers until every shard has its start, or a while after the start (a late shard learns it is late)
  const linger = setInterval(() => {
    if (fetched.size >= count - 1 || clock() > startAt! + LINGER_MS) {
      clearInterval(linger);
      stop();
    }
  }, POLL_MS);
  linger.unref?.();
  return { offsetMs: 0, rttMs: null, pings: 0, startAtShardZeroMs: startAt, startAtMs: startAt };
}

function checkInProblem(body: CheckIn, spec: RendezvousSpec, arrived: Map<number, CheckIn>): string | null {
  const { count } = spec.shard;
  if (!Number.isInteger(body.shard) || body.shard < 1 || body.shard >= count || body.count !== count) {
    return `a shard checked in as ${body.shard}/${body.count}, but shard 0 runs shard 0/${count}`;
  }
  if (body.plan_hash !== spec.planHash) return `shard ${body.shard}/${count} has a different plan (hash ${body.plan_hash}; shard 0 has ${spec.planHash}: the workload settings differ)`;
  const earlier = arrived.get(body.shard);
  if (earlier && earlier.session !== body.session) return `shard ${body.shard}/${count} checked in twice, from two processes (two pods with the same index?)`;
  return null;
}

async function guest(spec: RendezvousSpec): Promise<RendezvousResult> {
  const clock = spec.clock ?? wallClock;
  const deadline = performance.now() + spec.timeoutMs;
  const where = `${spec.address.host.includes(":") ? `[${spec.address.host}]` : spec.address.host}:${spec.address.port}`;
  const base = `http://${where}`;
  const me = `${spec.shard.index}/${spec.shard.count}`;
  const aborted = () => spec.signal?.aborted === true;
  const call = (path: string, init?: RequestInit) => fetch(base + path, { ...init, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });

  // shard 0 may not listen yet: try until the deadline
  let lastError = "";
  const samples: { t0: number; s: number; t1: number }[] = [];
  while (samples.length < PINGS) {
    if (aborted()) return interruptedResult(clock);
    if (performance.now() > deadline) throw new RendezvousFailed(`rendezvous: shard ${me}: shard 0 at ${where} did not answer within ${spec.timeoutMs / 1000} s (--rendezvous-timeout)${lastError ? `: ${lastError}` : ""}`);
    try {
      const t0 = clock();
      const response = await call("/v1/time");
      const { now_ms } = (await response.json()) as { now_ms: number };
      const t1 = clock();
      samples.push({ t0, s: now_ms, t1 });
    } catch (error) {
      lastError = (error as Error).message;
      await Bun.sleep(POLL_MS * 2);
    }
  }
  const offset = offsetFromPings(samples);

  const checkIn: CheckIn = { shard: spec.shard.index, count: spec.shard.count, plan_hash: spec.planHash, session: crypto.randomUUID(), offset_ms: offset.offsetMs, rtt_ms: offset.rttMs! };
  for (;;) {
    if (performance.now() > deadline) throw new RendezvousFailed(`rendezvous: shard ${me}: could not check in with shard 0 at ${where} within ${spec.timeoutMs / 1000} s: ${lastError}`);
    try {
      const response = await call("/v1/checkin", { method: "POST", body: JSON.stringify(checkIn), headers: { "content-type": "application/json" } });
      if (response.status === 409) throw new RendezvousFailed(`rendezvous: shard ${me}: shard 0 refused it: ${await response.text()}`);
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      break;
    } catch (error) {
      if (error instanceof RendezvousFailed) throw error;
      lastError = (error as Error).message;
      await Bun.sleep(POLL_MS);
    }
  }

  // shard 0 judges who is missing: wait a little past its own timeout for its verdict
  const startDeadline = deadline + VERDICT_GRACE_MS;
  let waitingFor = "";
  for (;;) {
    if (aborted()) return interruptedResult(clock);
    if (performance.now() > startDeadline) {
      throw new RendezvousFailed(`rendezvous: shard ${me}: shard 0 at ${where} announced no start within ${spec.timeoutMs / 1000} s (--rendezvous-timeout)${waitingFor ? `; it was waiting for ${waitingFor}` : lastError ? `: ${lastError}` : ""}`);
    }
    try {
      const answer = (await (await call(`/v1/start?shard=${spec.shard.index}`)).json()) as { start_at_ms?: number; waiting_for?: string; failed?: string };
      if (answer.failed) throw new RendezvousFailed(`rendezvous: shard ${me}: shard 0 gave up: ${answer.failed}`);
      if (typeof answer.start_at_ms === "number") return { ...offset, startAtShardZeroMs: answer.start_at_ms, startAtMs: answer.start_at_ms + offset.offsetMs };
      waitingFor = answer.waiting_for ?? "";
    } catch (error) {
      if (error instanceof RendezvousFailed) throw error;
      lastError = (error as Error).message;
    }
    await Bun.sleep(POLL_MS);
  }
}

function interruptedResult(clock: () => number): RendezvousResult {
  const now = clock();
  return { offsetMs: 0, rttMs: null, pings: 0, startAtShardZeroMs: now, startAtMs: now };
}
