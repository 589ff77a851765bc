import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import pc from "picocolors";
import { describeNetworkError } from "../backends/transport/http.ts";
import type { ResolvedBenchConfig } from "../config/bench-config.ts";
import { UsageError } from "../config/usage-error.ts";
import { Interrupt } from "../common/interrupt.ts";
import { baseSettings } from "../config/sweep-points.ts";
import { backendFor } from "../runner/backend-for.ts";
import {
  isRecordedServerRunning,
  processStartTicks,
  readServerRecord,
  removeServerRecord,
  serverLogPath,
  serverRecordPath,
  writeServerRecord,
} from "./pid-file.ts";
import { assertProgramExists } from "./launch.ts";
import { assertPortFree } from "./port-holder.ts";
import { killProcessGroup, stopProcessGroup } from "./process-group.ts";
import { redactArgv } from "./redact.ts";
import { bringUp, planServer } from "./server-plan.ts";
import { ServerStartError } from "./server-session.ts";

/** Exit codes of `server status`, as init scripts use them. */
export const STATUS_READY = 0;
export const STATUS_NOT_READY = 1;
export const STATUS_NOT_RUNNING = 3;

const STATUS_HEALTH_TIMEOUT_S = 5;

/**
 * `server start`: launches the server as `sweep` does, waits until it is ready, records its pid
 * and leaves it running; prints the seed's `SERVER STARTED <pid>`.
 */
export async function serverStart(config: ResolvedBenchConfig): Promise<number> {
  const plan = planServer(config);
  const recordPath = serverRecordPath(config.outputDir, config.backend);
  if (plan.kind === "recorded") {
    console.error(pc.red(`llmbench: a ${config.backend} server is already running (pid ${plan.record.pid}, ${plan.url}); llmbench server stop first`));
    return 1;
  }
  if (plan.kind === "external") {
    throw new UsageError(`servers.${config.backend}.launch is "already-running": there is nothing for llmbench to start`);
  }
  assertProgramExists(plan.launch, `servers.${config.backend}.launch.command`);
  await assertPortFree(plan.url, `servers.${config.backend}.url`);
  const logPath = serverLogPath(config.outputDir, config.backend);
  mkdirSync(dirname(logPath), { recursive: true });
  let launchedPid: number | null = null;
  // a second Ctrl-C exits at once: the server being started goes with it
  const interrupt = new Interrupt({ onSecond: () => launchedPid !== null && killProcessGroup(launchedPid) }).start();
  try {
    const { session, waitedS, detach } = await bringUp(plan, {
      backend: backendFor({ ...baseSettings(config), baseUrl: plan.url }),
      logPath,
      commandField: `servers.${config.backend}.launch.command`,
      signal: interrupt.signal,
      onLaunched: (pid) => (launchedPid = pid),
    });
    const pid = session.pid!;
    writeServerRecord(recordPath, {
      pid,
      startTicks: processStartTicks(pid),
      url: session.url,
      backend: config.backend,
      model: config.model.tag,
      command: redactArgv(plan.launch.command),
      log: logPath,
      config: config.configPath,
      startedAt: new Date().toISOString(),
    });
    detach();
    console.log(`SERVER STARTED ${pid}`);
    console.error(pc.dim(`  ready after ${waitedS.toFixed(1)} s at ${session.url}; log ${logPath}; llmbench server stop ${config.configPath} stops it`));
    return 0;
  } catch (error) {
    if (interrupt.aborted) {
      console.error(pc.yellow("interrupted: the server was stopped"));
      return 130;
    }
    if (!(error instanceof ServerStartError)) throw error;
    console.error(pc.red(`llmbench: the server did not start: ${error.message}`));
    return 1;
  } finally {
    interrupt.stop();
  }
}

/** `server stop`: stops the recorded server's whole process group (SIGTERM, then SIGKILL after the grace period). */
export async function serverStop(config: ResolvedBenchConfig): Promise<number> {
  const recordPath = serverRecordPath(config.outputDir, config.backend);
  const record = readServerRecord(recordPath);
  if (!record) {
    console.error(pc.red(`llmbench: no ${config.backend} server was started by llmbench server start (nothing in ${recordPath})`));
    return 1;
  }
  if (!isRecordedServerRunning(record)) {
    removeServerRecord(recordPath);
    console.log(`SERVER NOT RUNNING ${record.pid}`);
    console.error(pc.dim(`  the server recorded in ${recordPath} had already exited; record removed`));
    return 0;
  }
  const graceS = config.launch?.stopGraceS ?? 10;
  const outcome = await stopProcessGroup(record.pid, graceS);
  removeServerRecord(recordPath);
  console.log(`SERVER STOPPED ${record.pid}`);
  if (outcome === "killed") console.error(pc.yellow(`  it did not exit within ${graceS} s of SIGTERM and was killed (SIGKILL)`));
  return 0;
}

/** `server status`: whether the server is up and whether it answers as ready. Exit 0 ready, 1 up but not ready, 3 not running. */
export async function serverStatus(config: ResolvedBenchConfig): Promise<number> {
  const recordPath = serverRecordPath(config.outputDir, config.backend);
  const record = readServerRecord(recordPath);
  if (record && isRecordedServerRunning(record)) {
    const health = await checkReady(config, record.url);
    if (health === null) {
      console.log(`up and ready: pid ${record.pid}, ${record.url} (started ${record.startedAt}; log ${record.log})`);
      return STATUS_READY;
    }
    console.log(`up, not ready: pid ${record.pid}, ${record.url}: ${health}`);
    return STATUS_NOT_READY;
  }
  const health = await checkReady(config, config.server.url);
  if (health === null) {
    console.log(`up and ready: ${config.server.url} (not started by llmbench server start)`);
    return STATUS_READY;
  }
  const recorded = record ? `pid ${record.pid} recorded in ${recordPath} has exited` : `none started by llmbench server start`;
  console.log(`not running: ${recorded}; ${config.server.url}: ${health}`);
  return STATUS_NOT_RUNNING;
}

/** Null when one health check answers as ready, else why not. */
async function checkReady(config: ResolvedBenchConfig, url: string): Promise<string | null> {
  try {
    await backendFor({ ...baseSettings(config), baseUrl: url }).checkHealth(AbortSignal.timeout(STATUS_HEALTH_TIMEOUT_S * 1000));
    return null;
  } catch (error) {
    return (error as Error)?.name === "TimeoutError" ? `no answer within ${STATUS_HEALTH_TIMEOUT_S} s` : describeNetworkError(error);
  }
}
