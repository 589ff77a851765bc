import type { Backend } from "../backends/backend.ts";
import type { ResolvedLaunch } from "../config/bench-config.ts";
import { describeExit, launchProcess } from "./launch.ts";
import { formatLogTail } from "./log-tail.ts";
import { isRecordedServerRunning, type ServerRecord } from "./pid-file.ts";
import { isProcessAlive, stopProcessGroup } from "./process-group.ts";
import { NotReadyError, waitUntilReady } from "./readiness.ts";
import { startWatchdog } from "./watchdog.ts";

/** Why the server went away mid-sweep: a short reason (it goes into records) and the log tail. */
export interface ServerLoss {
  reason: string;
  details: string;
}

/** The server a sweep measures, however it came to run. */
export interface ServerSession {
  readonly url: string;
  /** Its pid (and process group); null when someone else runs it. */
  readonly pid: number | null;
  /** Resolves with a reason if the server process goes away before `stop()`; never for servers llmbench cannot watch. */
  readonly lost: Promise<ServerLoss>;
  /** Stops the server if this run launched it (its whole process group); says what happened. */
  stop(): Promise<string>;
}

/** The server could not be brought up: the message says why and ends with the tail of its log. */
export class ServerStartError extends Error {
  override name = "ServerStartError";
}

export interface LaunchOptions {
  launch: ResolvedLaunch;
  url: string;
  backend: Backend;
  logPath: string;
  /** The config field of the command, named when the program cannot be started. */
  commandField: string;
  /** Aborting it (Ctrl-C) stops the server and rejects with its reason. */
  signal?: AbortSignal;
  onLaunched?: (pid: number) => void;
}

/**
 * Launches the server and waits until its health check answers. On any failure the whole
 * process group is stopped before the error is thrown, so nothing is left behind.
 */
export async function launchAndWait(options: LaunchOptions): Promise<{ session: ServerSession; waitedS: number; detach: () => void }> {
  const child = launchProcess(options.launch, options.logPath, options.commandField);
  // Stops the server should llmbench die by SIGKILL or a crash before it stops the server itself.
  const watchdog = startWatchdog(child.pid, options.launch.stopGraceS);
  options.onLaunched?.(child.pid);
  let stopping = false;
  const stop = async () => {
    stopping = true;
    const outcome = await stopProcessGroup(child.pid, options.launch.stopGraceS);
    watchdog?.release();
    if (outcome === "killed") return `server (pid ${child.pid}) stopped with SIGKILL: it did not exit within ${options.launch.stopGraceS} s of SIGTERM`;
    return outcome === "terminated" ? `server (pid ${child.pid}) stopped` : `server (pid ${child.pid}) had already exited`;
  };
  let waitedS: number;
  try {
    waitedS = await waitUntilReady(options.backend, {
      timeoutS: options.launch.readyTimeoutS,
      exited: child.exited,
      signal: options.signal,
      timeoutHint: `${options.commandField.replace(/\.command$/, ".readyTimeoutS")} gives it longer`,
    });
  } catch (error) {
    await stop();
    if (error instanceof NotReadyError) throw new ServerStartError(`${error.message}\n${formatLogTail(options.logPath)}`);
    throw error;
  }
  // A health check answered while the launched process is gone was answered by someone else.
  if (!isProcessAlive(child.pid)) {
    await stop();
    throw new ServerStartError(`the launched server (pid ${child.pid}) exited although its health check answered: whatever answered at ${options.url} is not it\n${formatLogTail(options.logPath)}`);
  }
  const session: ServerSession = {
    url: options.url,
    pid: child.pid,
    lost: new Promise((resolve) => {
      void child.exited.then((exit) => {
        if (!stopping) resolve({ reason: `the server ${describeExit(exit)}`, details: formatLogTail(options.logPath) });
      });
    }),
    stop,
  };
  const detach = () => {
    watchdog?.release(); // `server start` leaves the server running on purpose
    child.detach();
  };
  return { session, waitedS, detach };
}

/** A server started earlier by `llmbench server start`: watched, used, and left running. */
export function recordedServerSession(record: ServerRecord): ServerSession {
  let timer: ReturnType<typeof setInterval> | undefined;
  const lost = new Promise<ServerLoss>((resolve) => {
    timer = setInterval(() => {
      if (isRecordedServerRunning(record)) return;
      clearInterval(timer);
      resolve({ reason: `the server (pid ${record.pid}, started by llmbench server start) is gone`, details: formatLogTail(record.log) });
    }, 500);
    timer.unref?.();
  });
  return {
    url: record.url,
    pid: record.pid,
    lost,
    stop: async () => {
      clearInterval(timer);
      return `server (pid ${record.pid}) left running, as it was started by llmbench server start`;
    },
  };
}

/** A server someone else runs ("already-running"): nothing to watch or stop. */
export function externalServerSession(url: string): ServerSession {
  return {
    url,
    pid: null,
    lost: new Promise<ServerLoss>(() => {}),
    stop: async () => "server left running (launch: \"already-running\")",
  };
}
