import type { Backend } from "../backends/backend.ts";
import type { ResolvedBenchConfig, ResolvedLaunch } from "../config/bench-config.ts";
import { registerSecret } from "../records/scrub.ts";
import { secretValues } from "./redact.ts";
import { isRecordedServerRunning, readServerRecord, serverRecordPath, type ServerRecord } from "./pid-file.ts";
import { NotReadyError, waitUntilReady } from "./readiness.ts";
import {
  externalServerSession,
  launchAndWait,
  recordedServerSession,
  ServerStartError,
  type ServerSession,
} from "./server-session.ts";

/** Where a run's server comes from: launched now, started earlier by `server start`, or run by someone else. */
export type ServerPlan =
  | { kind: "launch"; url: string; launch: ResolvedLaunch }
  | { kind: "recorded"; url: string; record: ServerRecord }
  | { kind: "external"; url: string };

/** Seconds a server llmbench did not launch gets to answer its health check. */
const EXISTING_SERVER_TIMEOUT_S = 10;

/** A server `llmbench server start` left running for this backend is used rather than launching a second one. */
export function planServer(config: ResolvedBenchConfig): ServerPlan {
  const record = readServerRecord(serverRecordPath(config.outputDir, config.backend));
  if (record && isRecordedServerRunning(record)) return { kind: "recorded", url: record.url, record };
  if (config.launch) {
    for (const secret of secretValues(config.launch.env, config.launch.command)) registerSecret(secret);
    return { kind: "launch", url: config.server.url, launch: config.launch };
  }
  return { kind: "external", url: config.server.url };
}

export interface BringUpOptions {
  backend: Backend;
  /** Where a launched server's output goes. */
  logPath: string;
  commandField: string;
  signal?: AbortSignal;
  onLaunched?: (pid: number) => void;
}

/** Makes the planned server ready (or fails with a ServerStartError that says why). */
export async function bringUp(plan: ServerPlan, options: BringUpOptions): Promise<{ session: ServerSession; waitedS: number; detach: () => void }> {
  if (plan.kind === "launch") {
    return launchAndWait({ launch: plan.launch, url: plan.url, ...options });
  }
  const session = plan.kind === "recorded" ? recordedServerSession(plan.record) : externalServerSession(plan.url);
  try {
    const waitedS = await waitUntilReady(options.backend, { timeoutS: EXISTING_SERVER_TIMEOUT_S, signal: options.signal });
    return { session, waitedS, detach: () => {} };
  } catch (error) {
    await session.stop();
    if (error instanceof NotReadyError) {
      const whose = plan.kind === "recorded" ? `started by llmbench server start (pid ${plan.record.pid})` : `"already-running"`;
      throw new ServerStartError(`the server at ${plan.url} (${whose}) is not ready: ${error.message}`);
    }
    throw error;
  }
}
